//! Input becomes an [`Action`]; the keymap is one table, from which the
//! help overlay and the key bar are generated.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything the user can ask for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Play or pause.
    TogglePlay,
    /// One raw event forward (even one that changes nothing on screen).
    StepForward,
    /// One raw event back.
    StepBack,
    /// Forward to the next event that changes what is drawn.
    NextChange,
    /// Back to the previous picture.
    PrevChange,
    /// Jump to the next moment (narration, fault, decision, outcome,
    /// violation).
    NextMoment,
    /// Jump to the previous moment.
    PrevMoment,
    /// Switch playback between simulated time and events per second.
    TogglePace,
    /// Show or hide background traffic (the auditor's reads).
    ToggleBackground,
    /// Scroll the diagram back by this many rows.
    ScrollUp(usize),
    /// Scroll the diagram forward by this many rows.
    ScrollDown(usize),
    /// Next colour theme.
    CycleTheme,
    /// Presenter mode on or off.
    TogglePresent,
    /// 10 ms of virtual time forward.
    TimeForward,
    /// 10 ms back.
    TimeBack,
    /// Play faster.
    SpeedUp,
    /// Play slower.
    SpeedDown,
    /// To the start.
    JumpStart,
    /// To the end.
    JumpEnd,
    /// Seek to a fraction (0..=1) of the timeline.
    Seek(f64),
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Zoom the focused pane full screen (or back).
    ToggleZoom,
    /// Select the next node in the focused pane.
    NextNode,
    /// Select the previous node.
    PrevNode,
    /// Select the next in-flight message.
    NextMessage,
    /// Inspect the selection.
    Inspect,
    /// Crash the selected node, or restart it if it is down.
    CrashRestart,
    /// Drop the selected in-flight message.
    DropMessage,
    /// Duplicate the selected in-flight message.
    DuplicateMessage,
    /// Cut the selected node off, or heal every partition.
    PartitionHeal,
    /// Mirror injected faults to all three protocols (or only the focus).
    ToggleMirror,
    /// Save the current branch as a scenario file.
    SaveBranch,
    /// Undo the last branch: back to the run before the last injected fault.
    UndoBranch,
    /// Node lines: all transactions (each node's latest), then T0, T1, ...
    CycleTx,
    /// Export the screen for slides (SVG, text, Mermaid), after a prompt
    /// for the file name.
    Export,
    /// Show or hide the help.
    Help,
    /// Open the scenario picker.
    Picker,
    /// Open the sweep view.
    Sweep,
    /// Show the isolation anomalies found so far, per protocol.
    Anomalies,
    /// Start typing a node filter.
    Filter,
    /// Close an overlay, clear a filter.
    Back,
    /// Confirm in an overlay.
    Confirm,
    /// Up in a list.
    Up,
    /// Down in a list.
    Down,
    /// A character typed into the filter.
    Char(char),
    /// Delete a filter character.
    Backspace,
    /// Quiz mode on or off (questions pause the run).
    ToggleQuiz,
    /// Answer the open question with this choice (0-based).
    Answer(usize),
    /// Playback timer.
    Tick,
    /// A click on a pane, maybe on one of its node lines.
    Click {
        /// The pane clicked.
        pane: usize,
        /// The node whose line was clicked.
        node: Option<usize>,
    },
}

/// One key binding, as the help shows it.
pub struct Binding {
    /// The key, in words.
    pub keys: &'static str,
    /// What it does (short enough for a two-column help at 80 columns).
    pub what: &'static str,
    /// The action.
    pub action: Action,
    /// Its one-word label in the key bar, if it is shown there.
    pub bar: Option<&'static str>,
}

/// The keymap: every binding, in help order.
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "space",
        what: "play / pause",
        action: Action::TogglePlay,
        bar: Some("play"),
    },
    Binding {
        keys: "→ / l",
        what: "step to the next change",
        action: Action::NextChange,
        bar: Some("step"),
    },
    Binding {
        keys: "← / h",
        what: "step back one change",
        action: Action::PrevChange,
        bar: Some("back"),
    },
    Binding {
        keys: "n",
        what: "next moment (fault, ...)",
        action: Action::NextMoment,
        bar: Some("next"),
    },
    Binding {
        keys: "N",
        what: "previous moment",
        action: Action::PrevMoment,
        bar: None,
    },
    Binding {
        keys: ".",
        what: "one raw event forward",
        action: Action::StepForward,
        bar: None,
    },
    Binding {
        keys: ",",
        what: "one raw event back",
        action: Action::StepBack,
        bar: None,
    },
    Binding {
        keys: "]",
        what: "10 ms forward",
        action: Action::TimeForward,
        bar: None,
    },
    Binding {
        keys: "[",
        what: "10 ms back",
        action: Action::TimeBack,
        bar: None,
    },
    Binding {
        keys: "+",
        what: "play faster",
        action: Action::SpeedUp,
        bar: None,
    },
    Binding {
        keys: "-",
        what: "play slower",
        action: Action::SpeedDown,
        bar: None,
    },
    Binding {
        keys: "r",
        what: "rate: sim ms/s or events/s",
        action: Action::TogglePace,
        bar: None,
    },
    Binding {
        keys: "home / g",
        what: "jump to the start",
        action: Action::JumpStart,
        bar: None,
    },
    Binding {
        keys: "end / G",
        what: "jump to the end",
        action: Action::JumpEnd,
        bar: None,
    },
    Binding {
        keys: "tab",
        what: "focus the next pane",
        action: Action::FocusNext,
        bar: Some("focus"),
    },
    Binding {
        keys: "shift-tab",
        what: "focus the previous pane",
        action: Action::FocusPrev,
        bar: None,
    },
    Binding {
        keys: "z",
        what: "zoom the focused pane",
        action: Action::ToggleZoom,
        bar: Some("zoom"),
    },
    Binding {
        keys: "↓ / j",
        what: "select the next node",
        action: Action::NextNode,
        bar: None,
    },
    Binding {
        keys: "↑ / k",
        what: "select the previous node",
        action: Action::PrevNode,
        bar: None,
    },
    Binding {
        keys: "pgup / {",
        what: "scroll the diagram back",
        action: Action::ScrollUp(5),
        bar: None,
    },
    Binding {
        keys: "pgdn / }",
        what: "scroll the diagram on",
        action: Action::ScrollDown(5),
        bar: None,
    },
    Binding {
        keys: "b",
        what: "show background reads",
        action: Action::ToggleBackground,
        bar: None,
    },
    Binding {
        keys: "t",
        what: "colour theme",
        action: Action::CycleTheme,
        bar: None,
    },
    Binding {
        keys: "P",
        what: "presenter mode",
        action: Action::TogglePresent,
        bar: None,
    },
    Binding {
        keys: "a",
        what: "quiz mode: ask the room",
        action: Action::ToggleQuiz,
        bar: None,
    },
    Binding {
        keys: "1 … 9",
        what: "answer the open question",
        action: Action::Answer(0),
        bar: None,
    },
    Binding {
        keys: "m",
        what: "select next in-flight msg",
        action: Action::NextMessage,
        bar: None,
    },
    Binding {
        keys: "enter / i",
        what: "inspect node or message",
        action: Action::Inspect,
        bar: Some("inspect"),
    },
    Binding {
        keys: "c",
        what: "crash / restart the node",
        action: Action::CrashRestart,
        bar: Some("crash"),
    },
    Binding {
        keys: "d",
        what: "drop the selected message",
        action: Action::DropMessage,
        bar: None,
    },
    Binding {
        keys: "D",
        what: "duplicate selected message",
        action: Action::DuplicateMessage,
        bar: None,
    },
    Binding {
        keys: "p",
        what: "cut node off / heal all",
        action: Action::PartitionHeal,
        bar: Some("partition"),
    },
    Binding {
        keys: "M",
        what: "mirror faults on / off",
        action: Action::ToggleMirror,
        bar: None,
    },
    Binding {
        keys: "s",
        what: "save branch as scenario",
        action: Action::SaveBranch,
        bar: None,
    },
    Binding {
        keys: "u",
        what: "undo the last branch",
        action: Action::UndoBranch,
        bar: None,
    },
    Binding {
        keys: "x",
        what: "nodes: all tx / T0 / T1 …",
        action: Action::CycleTx,
        bar: None,
    },
    Binding {
        keys: "e",
        what: "export screen for slides",
        action: Action::Export,
        bar: None,
    },
    Binding {
        keys: "o",
        what: "open a scenario",
        action: Action::Picker,
        bar: Some("open"),
    },
    Binding {
        keys: "w",
        what: "sweep seeds",
        action: Action::Sweep,
        bar: None,
    },
    Binding {
        keys: "A",
        what: "isolation anomalies so far",
        action: Action::Anomalies,
        bar: None,
    },
    Binding {
        keys: "/",
        what: "filter nodes by name",
        action: Action::Filter,
        bar: None,
    },
    Binding {
        keys: "esc",
        what: "close / clear the filter",
        action: Action::Back,
        bar: None,
    },
    Binding {
        keys: "?",
        what: "help; again: next page",
        action: Action::Help,
        bar: Some("help"),
    },
    Binding {
        keys: "q / ctrl-c",
        what: "quit",
        action: Action::Quit,
        bar: Some("quit"),
    },
];

/// The action for a key, in the main view.
pub fn action_for(key: KeyEvent, typing: bool) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if typing {
        return match key.code {
            KeyCode::Enter => Some(Action::Confirm),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Char(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char(' ') => Action::TogglePlay,
        KeyCode::Right | KeyCode::Char('l') => Action::NextChange,
        KeyCode::Left | KeyCode::Char('h') => Action::PrevChange,
        KeyCode::Char('.') => Action::StepForward,
        KeyCode::Char(',') => Action::StepBack,
        KeyCode::Char('n') => Action::NextMoment,
        KeyCode::Char('N') => Action::PrevMoment,
        KeyCode::Char('r') => Action::TogglePace,
        KeyCode::Char('b') => Action::ToggleBackground,
        KeyCode::Char('t') => Action::CycleTheme,
        KeyCode::Char('P') => Action::TogglePresent,
        KeyCode::PageUp | KeyCode::Char('{') => Action::ScrollUp(5),
        KeyCode::PageDown | KeyCode::Char('}') => Action::ScrollDown(5),
        KeyCode::Char(']') => Action::TimeForward,
        KeyCode::Char('[') => Action::TimeBack,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::SpeedUp,
        KeyCode::Char('-') => Action::SpeedDown,
        KeyCode::Home | KeyCode::Char('g') => Action::JumpStart,
        KeyCode::End | KeyCode::Char('G') => Action::JumpEnd,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('z') => Action::ToggleZoom,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Char('m') => Action::NextMessage,
        KeyCode::Char('a') => Action::ToggleQuiz,
        KeyCode::Char(c @ '1'..='9') => Action::Answer(c as usize - '1' as usize),
        KeyCode::Enter | KeyCode::Char('i') => Action::Confirm,
        KeyCode::Char('c') => Action::CrashRestart,
        KeyCode::Char('d') => Action::DropMessage,
        KeyCode::Char('D') => Action::DuplicateMessage,
        KeyCode::Char('p') => Action::PartitionHeal,
        KeyCode::Char('M') => Action::ToggleMirror,
        KeyCode::Char('s') => Action::SaveBranch,
        KeyCode::Char('u') => Action::UndoBranch,
        KeyCode::Char('x') => Action::CycleTx,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('o') => Action::Picker,
        KeyCode::Char('w') => Action::Sweep,
        KeyCode::Char('A') => Action::Anomalies,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}
