//! A case's trouble, piece by piece: each fault and each departure from a
//! calm run (a lossy network, a link override, a slow or silent step, a
//! planned refusal, transient failures, a failing compensation, a crash or
//! a partition) is one [`Trouble`], which can be said in words and removed
//! from the case. The check's last shrinking pass removes them one at a
//! time, so a reported failure needs every piece it still has.

use super::case::{Case, FaultCase, LatencyCase, Shape, partition_sides};
use crate::protocols::Protocol;

/// One piece of a case's trouble (what [`Case::trouble`] says in words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// Loss on every link.
    Loss,
    /// Duplication on every link.
    Duplicate,
    /// The link override at this index of [`Case::links`].
    Link(usize),
    /// The slow or silent step at this index of [`Case::slow`].
    Slow(usize),
    /// Transaction 0 refused at [`Case::reject_step`].
    Reject,
    /// Transient failures of the last step.
    Transient,
    /// The first step's compensation always fails.
    Stuck,
    /// The crash or partition at this index of [`Case::faults`].
    Fault(usize),
    /// The crash tied to a protocol's first message (a knob).
    TiedCrash,
}

impl Case {
    /// Every piece of this case's trouble, in the order [`Case::trouble`]
    /// words them.
    pub fn trouble_items(&self) -> Vec<Trouble> {
        let mut out = Vec::new();
        if self.loss > 0.0 {
            out.push(Trouble::Loss);
        }
        if self.duplicate > 0.0 {
            out.push(Trouble::Duplicate);
        }
        out.extend((0..self.links.len()).map(Trouble::Link));
        out.extend((0..self.slow.len()).map(Trouble::Slow));
        if self.reject_step.is_some() {
            out.push(Trouble::Reject);
        }
        if self.transient > 0.0 {
            out.push(Trouble::Transient);
        }
        if self.stuck {
            out.push(Trouble::Stuck);
        }
        out.extend((0..self.faults.len()).map(Trouble::Fault));
        if self.knobs.tied_crash.is_some() {
            out.push(Trouble::TiedCrash);
        }
        out
    }

    /// This case without `piece` (unchanged if it has no such piece).
    pub fn without(&self, piece: Trouble) -> Case {
        let mut c = self.clone();
        match piece {
            Trouble::Loss => c.loss = 0.0,
            Trouble::Duplicate => c.duplicate = 0.0,
            Trouble::Link(i) if i < c.links.len() => drop(c.links.remove(i)),
            Trouble::Slow(i) if i < c.slow.len() => drop(c.slow.remove(i)),
            Trouble::Reject => c.reject_step = None,
            Trouble::Transient => c.transient = 0.0,
            Trouble::Stuck => c.stuck = false,
            Trouble::Fault(i) if i < c.faults.len() => drop(c.faults.remove(i)),
            Trouble::TiedCrash => c.knobs.tied_crash = None,
            Trouble::Link(_) | Trouble::Slow(_) | Trouble::Fault(_) => {}
        }
        c
    }

    /// Each piece of the case's trouble in words, e.g. "26 % of messages
    /// lost", "charge card refuses T0", "crash payment at 12 ms for 30 ms".
    /// Its length is the size of the fault schedule a shrunk failure is
    /// judged by.
    pub fn trouble(&self, shape: &Shape) -> Vec<String> {
        self.trouble_items()
            .into_iter()
            .map(|t| self.describe(t, shape))
            .collect()
    }

    /// What the case sets that is not trouble, in words: latency, the
    /// disk, FIFO links, an impatient client, the workload ("latency
    /// 7–30 ms, forced writes 14 ms, client retries after 76 ms, 2
    /// transactions 1 ms apart").
    pub fn setting(&self) -> String {
        let mut parts = vec![format!("latency {}", latency(&self.latency))];
        if self.write_latency_ms > 0 {
            parts.push(format!("forced writes {} ms", self.write_latency_ms));
        }
        if self.fifo {
            parts.push("links in order".into());
        }
        if let Some(ms) = self.client_retry_ms {
            parts.push(format!("client retries after {ms} ms"));
        }
        parts.push(match self.transactions {
            1 => "1 transaction".into(),
            n => format!("{n} transactions {} ms apart", self.interval_ms),
        });
        parts.join(", ")
    }

    /// One piece of trouble in words.
    pub fn describe(&self, piece: Trouble, shape: &Shape) -> String {
        let n = |i: usize| shape.nodes[i % shape.nodes.len()].as_str();
        let step = |i: usize| shape.steps[i.min(shape.steps.len().saturating_sub(1))].as_str();
        match piece {
            Trouble::Loss => format!("{} of messages lost", percent(self.loss)),
            Trouble::Duplicate => format!("{} of messages duplicated", percent(self.duplicate)),
            Trouble::Link(i) => {
                let Some(l) = self.links.get(i) else {
                    return String::new();
                };
                let (from, to) = (n(l.from), n(l.to));
                if from == to {
                    return format!("link {from} → {to} (ignored: a node to itself)");
                }
                let mut parts = Vec::new();
                if let Some(lat) = &l.latency {
                    parts.push(format!("delay {}", latency(lat)));
                }
                if let Some(p) = l.loss {
                    parts.push(format!("loss {}", percent(p)));
                }
                if let Some(p) = l.duplicate {
                    parts.push(format!("duplicates {}", percent(p)));
                }
                if let Some(fifo) = l.fifo {
                    parts.push(if fifo { "in order" } else { "any order" }.to_string());
                }
                if parts.is_empty() {
                    parts.push("no change".to_string());
                }
                format!("link {from} → {to}: {}", parts.join(", "))
            }
            Trouble::Slow(i) => {
                let Some(s) = self.slow.get(i) else {
                    return String::new();
                };
                let mut parts = Vec::new();
                if s.silent_replies > 0 {
                    parts.push(match s.silent_replies {
                        1 => "does the work but drops its first reply".to_string(),
                        k => format!("does the work but drops its first {k} replies"),
                    });
                }
                if s.reply_delay_ms > 0 {
                    parts.push(format!("answers {} ms late", s.reply_delay_ms));
                }
                if parts.is_empty() {
                    parts.push("answers on time (no change)".to_string());
                }
                let only = match s.tx {
                    Some(t) if t < self.transactions => format!(", for T{t} only"),
                    _ => String::new(),
                };
                format!("{} {}{only}", step(s.step), parts.join(" and "))
            }
            Trouble::Reject => format!("{} refuses T0", step(self.reject_step.unwrap_or(0))),
            Trouble::Transient => format!(
                "{} fails transiently on {} of attempts",
                step(usize::MAX),
                percent(self.transient)
            ),
            Trouble::Stuck => format!("{}'s compensation always fails", step(0)),
            Trouble::Fault(i) => match self.faults.get(i) {
                None => String::new(),
                Some(FaultCase::Crash {
                    node,
                    at_ms,
                    down_ms,
                }) => format!("crash {} at {at_ms} ms for {down_ms} ms", n(*node)),
                Some(FaultCase::Partition {
                    nodes,
                    others,
                    one_way,
                    at_ms,
                    for_ms,
                }) => match partition_sides(shape, nodes, others) {
                    None => "a partition of every node from no one (no effect)".to_string(),
                    Some((a, b)) => {
                        let b = if b.is_empty() {
                            "everyone else".to_string()
                        } else {
                            b.join(", ")
                        };
                        let a = a.join(", ");
                        let when = format!("at {at_ms} ms for {for_ms} ms");
                        match one_way {
                            true => format!("block messages from {a} to {b} {when}"),
                            false => format!("cut {a} off from {b} {when}"),
                        }
                    }
                },
            },
            Trouble::TiedCrash => match self.knobs.tied_crash {
                Some((s, p, down_ms)) => format!(
                    "crash {} at the first {} message it gets, for {down_ms} ms",
                    n(s + 1),
                    Protocol::ALL[p % 3].name()
                ),
                None => String::new(),
            },
        }
    }
}

/// A probability as whole percent ("26 %").
fn percent(p: f64) -> String {
    format!("{} %", (p * 100.0).round())
}

/// A delay in words ("3–40 ms", "a long tail from 2 ms up to 200 ms").
fn latency(l: &LatencyCase) -> String {
    match *l {
        LatencyCase::Uniform {
            min_ms,
            spread_ms: 0,
        } => format!("{min_ms} ms"),
        LatencyCase::Uniform { min_ms, spread_ms } => {
            format!("{min_ms}–{} ms", min_ms + spread_ms)
        }
        LatencyCase::Pareto {
            min_ms,
            alpha,
            max_ms,
        } => format!(
            "a long tail from {min_ms} ms up to {} ms (Pareto, shape {alpha})",
            max_ms.max(min_ms)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{LinkCase, SlowCase};

    fn shape() -> Shape {
        Shape {
            nodes: vec!["coordinator".into(), "shop".into(), "payment".into()],
            steps: vec!["reserve item".into(), "charge card".into()],
        }
    }

    /// A calm case: no trouble at all.
    fn calm() -> Case {
        Case {
            seed: 1,
            loss: 0.0,
            duplicate: 0.0,
            latency: LatencyCase::Uniform {
                min_ms: 2,
                spread_ms: 6,
            },
            fifo: false,
            write_latency_ms: 0,
            links: Vec::new(),
            client_retry_ms: None,
            transactions: 3,
            interval_ms: 5,
            reject_step: None,
            transient: 0.0,
            slow: Vec::new(),
            stuck: false,
            faults: Vec::new(),
            toggles: Default::default(),
            knobs: Default::default(),
        }
    }

    #[test]
    fn a_calm_case_has_no_trouble() {
        assert!(calm().trouble(&shape()).is_empty());
        assert_eq!(
            calm().setting(),
            "latency 2–8 ms, 3 transactions 5 ms apart"
        );
    }

    /// The words of issue 15's newcomer: no "0 ms late", no "1 times",
    /// and a link override says what it overrides.
    #[test]
    fn trouble_reads_as_words_without_zero_parts() {
        let mut c = calm();
        c.loss = 0.26;
        c.slow = vec![
            SlowCase {
                step: 1,
                reply_delay_ms: 0,
                silent_replies: 1,
                tx: None,
            },
            SlowCase {
                step: 0,
                reply_delay_ms: 40,
                silent_replies: 2,
                tx: Some(1),
            },
        ];
        c.links = vec![LinkCase {
            from: 0,
            to: 2,
            latency: None,
            loss: Some(0.26),
            duplicate: None,
            fifo: Some(true),
        }];
        c.faults = vec![FaultCase::Partition {
            nodes: vec![2],
            others: vec![],
            one_way: true,
            at_ms: 12,
            for_ms: 30,
        }];
        assert_eq!(
            c.trouble(&shape()),
            [
                "26 % of messages lost",
                "link coordinator → payment: loss 26 %, in order",
                "charge card does the work but drops its first reply",
                "reserve item does the work but drops its first 2 replies and answers 40 ms \
                 late, for T1 only",
                "block messages from payment to everyone else at 12 ms for 30 ms",
            ]
        );
    }

    /// Removing each piece leaves the others: the list shrinks by one and
    /// the removed piece's words are gone.
    #[test]
    fn without_removes_exactly_one_piece() {
        let mut c = calm();
        c.duplicate = 0.1;
        c.reject_step = Some(1);
        c.stuck = true;
        c.faults = vec![
            FaultCase::Crash {
                node: 2,
                at_ms: 5,
                down_ms: 10,
            },
            FaultCase::Crash {
                node: 1,
                at_ms: 7,
                down_ms: 10,
            },
        ];
        let words = c.trouble(&shape());
        assert_eq!(words.len(), 5);
        for (i, piece) in c.trouble_items().into_iter().enumerate() {
            let mut expected = words.clone();
            expected.remove(i);
            assert_eq!(c.without(piece).trouble(&shape()), expected, "{piece:?}");
        }
    }
}
