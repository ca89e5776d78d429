//! Quiz mode on screen: the open question with its numbered choices, or,
//! once the room has answered, right or wrong and the explanation. The
//! box sits at the bottom of the panes, so the diagram the room reasons
//! about stays in view.

use super::style;
use crate::app::App;
use crate::quiz::{choice_key, protocol_title};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};
use txlab_sim::lab::scenario::Question;

/// Draw the open or just-answered question, if any, over the bottom of
/// `panes`.
pub fn render(app: &App, panes: Rect, buf: &mut Buffer) {
    let th = app.theme;
    let questions = &app.rec.scenario.file.question;
    let (q, lines, title) = if let Some(q) = app.quiz.asking {
        let question = &questions[q];
        (q, asking(app, question), " QUESTION — the room answers ")
    } else if let Some(q) = app.quiz.revealed {
        let question = &questions[q];
        let given = app.quiz.answers[q].unwrap_or(question.answer);
        (q, revealed(app, question, given), " ANSWER ")
    } else {
        return;
    };
    let width = panes.width.saturating_sub(4).min(110);
    if width < 20 || panes.height < 4 {
        return;
    }
    // Wrapped height: a rough count is enough (the box clips the rest).
    let inner_w = width.saturating_sub(2).max(1) as usize;
    let needed: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let h = (needed as u16 + 2).min(panes.height);
    let area = Rect::new(
        panes.x + (panes.width - width) / 2,
        panes.bottom() - h,
        width,
        h,
    );
    let of = format!(" {}/{} ", q + 1, questions.len());
    Clear.render(area, buf);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .title(Line::styled(title, style::focused(th, true)))
        .title_top(Line::from(of).right_aligned())
        .border_style(style::focused(th, true))
        .style(style::base(th));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .render(area, buf);
}

fn asking<'a>(app: &App, q: &'a Question) -> Vec<Line<'a>> {
    let th = app.theme;
    let mut lines = vec![Line::styled(
        q.prompt.as_str(),
        style::text(th).add_modifier(Modifier::BOLD),
    )];
    if let Some(p) = q.protocol {
        lines.push(Line::styled(
            format!("(about the {} pane)", protocol_title(p)),
            style::text(th),
        ));
    }
    for (i, c) in q.choices.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {} ", choice_key(i)),
                style::focused(th, true).add_modifier(Modifier::REVERSED),
            ),
            Span::raw(format!(" {c}")),
        ]));
    }
    lines.push(Line::styled(
        format!(
            "Press 1–{} to answer. Outcomes stay hidden until then.",
            q.choices.len().min(crate::quiz::MAX_CHOICES)
        ),
        style::text(th).add_modifier(Modifier::ITALIC),
    ));
    lines
}

fn revealed<'a>(app: &App, q: &'a Question, given: usize) -> Vec<Line<'a>> {
    let th = app.theme;
    let right = given == q.answer;
    let verdict = if right {
        Line::styled(
            format!("✓ RIGHT: {}) {}", choice_key(q.answer), q.choices[q.answer]),
            style::phase(th, crate::fold::Phase::Committed).add_modifier(Modifier::BOLD),
        )
    } else {
        Line::styled(
            format!(
                "✗ NOT QUITE: the room said {}) {}; the answer is {}) {}",
                choice_key(given),
                q.choices[given],
                choice_key(q.answer),
                q.choices[q.answer]
            ),
            style::bad(th).add_modifier(Modifier::BOLD),
        )
    };
    let mut lines = vec![Line::styled(q.prompt.as_str(), style::text(th)), verdict];
    if !q.explain.is_empty() {
        lines.push(Line::raw(q.explain.as_str()));
    }
    lines.push(Line::styled(
        "space or → to go on, esc to close",
        style::text(th).add_modifier(Modifier::ITALIC),
    ));
    lines
}
