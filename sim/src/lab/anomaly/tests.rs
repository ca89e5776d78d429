//! Each detector on hand-made histories: one that must trip it, and a
//! serial (serializable) one that must not.

use super::{AnomalyClass, detect};
use crate::engine::{NodeId, Observation, SimTime};
use crate::lab::view::RunView;
use crate::protocols::countermeasure::ByValue;
use crate::protocols::service::Reply;
use crate::protocols::workload::{
    Arrival, Op, ServiceId, ServiceSpec, StepId, StepKind, StepSpec, TxId, Workflow,
};
use crate::protocols::{Obs, Protocol};
use std::collections::BTreeMap;

/// Account (a register balance of 300) and shop (one item in stock).
/// Steps: 0 charge 100; 1 check stock (reads only); 2 reserve 1 relying
/// on the check; 3 look at the stock again.
fn workflow() -> Workflow {
    let svc = |name: &str, res: &str, v: i64, register: bool| ServiceSpec {
        name: name.into(),
        resources: BTreeMap::from([(res.to_string(), v)]),
        registers: if register {
            [res.to_string()].into()
        } else {
            Default::default()
        },
    };
    let step = |name: &str, service: u16, res: &str, amount, reads| StepSpec {
        name: name.into(),
        service: ServiceId(service),
        resource: res.into(),
        amount,
        kind: StepKind::Compensatable,
        action: "do".into(),
        compensation: "undo".into(),
        compensation_amount: amount,
        reads,
        group: None,
    };
    Workflow {
        services: vec![
            svc("account", "balance", 300, true),
            svc("shop", "stock", 1, false),
        ],
        steps: vec![
            step("charge", 0, "balance", 100, None),
            step("check", 1, "stock", 0, None),
            step("reserve", 1, "stock", 1, Some(StepId(1))),
            step("look again", 1, "stock", 0, None),
        ],
        transactions: 2,
        arrival: Arrival::default(),
        failures: Vec::new(),
        values: Vec::new(),
    }
}

fn local(tx: u32, step: u16, op: Op, delta: i64) -> Obs {
    Obs::Local {
        tx: TxId(tx),
        step: StepId(step),
        op,
        delta,
        reply: Reply::Done,
    }
}

const A: Op = Op::Action;
const C: Op = Op::Compensation;

/// `obs` as a trace's observations: one a millisecond, in order.
fn observations(obs: Vec<(u32, Obs)>) -> Vec<Observation<Obs>> {
    obs.into_iter()
        .enumerate()
        .map(|(i, (node, obs))| Observation {
            index: i as u64,
            time: SimTime::from_millis(i as u64),
            node: NodeId(node),
            obs,
        })
        .collect()
}

/// The view of a history: what the detector and `risky_isolated` read.
fn history<'a>(
    protocol: Protocol,
    wf: &'a Workflow,
    obs: &'a [Observation<Obs>],
    by_value: Option<ByValue>,
) -> RunView<'a> {
    RunView {
        protocol,
        workflow: wf,
        obs,
        faults: &[],
        final_values: Vec::new(),
        outcomes: BTreeMap::new(),
        healed: true,
        undelivered: 0,
        end: SimTime::from_secs(1),
        end_index: obs.len() as u64,
        by_value,
    }
}

/// The anomalies of `obs` (node 1 is the account, node 2 the shop).
fn classes(protocol: Protocol, obs: Vec<(u32, Obs)>) -> Vec<(AnomalyClass, Vec<u32>)> {
    let wf = workflow();
    let obs = observations(obs);
    detect(&history(protocol, &wf, &obs, None))
        .into_iter()
        .map(|a| (a.class, a.txs))
        .collect()
}

fn saga(obs: Vec<(u32, Obs)>) -> Vec<(AnomalyClass, Vec<u32>)> {
    classes(Protocol::Orchestrated, obs)
}

#[test]
fn a_compensation_restoring_the_old_balance_is_a_lost_update() {
    // T0 300 → 200, T1 200 → 100, T0's refund restores 300: T1's charge is
    // gone. T1 also read T0's charge, which was then undone: a dirty read.
    let found = saga(vec![
        (1, local(0, 0, A, -100)),
        (1, local(1, 0, A, -100)),
        (1, local(0, 0, C, 200)),
    ]);
    assert!(
        found.contains(&(AnomalyClass::LostUpdate, vec![0, 1])),
        "{found:?}"
    );
    assert!(
        found.contains(&(AnomalyClass::DirtyRead, vec![1, 0])),
        "{found:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn a_commutative_refund_loses_nothing() {
    // The same interleaving, but the refund adds 100 back: T1's charge stays.
    let found = saga(vec![
        (1, local(0, 0, A, -100)),
        (1, local(1, 0, A, -100)),
        (1, local(0, 0, C, 100)),
    ]);
    assert_eq!(found, vec![(AnomalyClass::DirtyRead, vec![1, 0])]);
}

#[test]
fn serial_sagas_show_no_anomaly_of_any_class() {
    // T0 runs and is compensated before T1 starts: serializable.
    let found = saga(vec![
        (1, local(0, 0, A, -100)),
        (2, local(0, 1, A, 0)),
        (2, local(0, 2, A, -1)),
        (2, local(0, 3, A, 0)),
        (2, local(0, 2, C, 1)),
        (1, local(0, 0, C, 100)),
        (1, local(1, 0, A, -100)),
        (2, local(1, 1, A, 0)),
        (2, local(1, 2, A, -1)),
        (2, local(1, 3, A, 0)),
    ]);
    assert_eq!(found, vec![]);
}

#[test]
fn a_second_look_at_a_changed_stock_is_a_fuzzy_read() {
    // T0 checks (1 in stock), T1 reserves it, T0 looks again: 0.
    let found = saga(vec![
        (2, local(0, 1, A, 0)),
        (2, local(1, 1, A, 0)),
        (2, local(1, 2, A, -1)),
        (2, local(0, 3, A, 0)),
    ]);
    // T1's reserve relied on its own check with nothing in between: clean.
    assert_eq!(found, vec![(AnomalyClass::FuzzyRead, vec![0, 1])]);
}

#[test]
fn reserving_on_a_stale_check_overdraws() {
    // Both check the one item; both reserve relying on their check.
    let found = saga(vec![
        (2, local(0, 1, A, 0)),
        (2, local(1, 1, A, 0)),
        (2, local(0, 2, A, -1)),
        (2, local(1, 2, A, -1)),
    ]);
    assert!(
        found.contains(&(AnomalyClass::Overdraw, vec![1])),
        "{found:?}"
    );
    assert!(
        found.contains(&(AnomalyClass::FuzzyRead, vec![1, 0])),
        "{found:?}"
    );
    // A counter's delta keeps T0's reservation: no lost update.
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn two_pc_prepare_reads_without_locks_lose_an_update() {
    let prepared = |tx| (1, Obs::Prepared { tx: TxId(tx) });
    // Without locks: both read 300 at prepare; T0 commits 200, T1 commits
    // 300 − 100 = 200 over it (a zero change that still wipes T0's).
    let found = classes(
        Protocol::TwoPc,
        vec![
            prepared(0),
            prepared(1),
            (1, local(0, 0, A, -100)),
            (1, local(1, 0, A, 0)),
        ],
    );
    assert!(
        found.contains(&(AnomalyClass::LostUpdate, vec![1, 0])),
        "{found:?}"
    );
    assert!(
        found.contains(&(AnomalyClass::FuzzyRead, vec![1, 0])),
        "{found:?}"
    );
    // Under locks T1 prepares after T0 committed: it reads 200, writes 100.
    let found = classes(
        Protocol::TwoPc,
        vec![
            prepared(0),
            (1, local(0, 0, A, -100)),
            prepared(1),
            (1, local(1, 0, A, -100)),
        ],
    );
    assert_eq!(found, vec![]);
}

/// The `risky_isolated` violations of a saga history (as the txs they
/// name) when requests have `values` and `by_value` is `threshold`.
fn risky(obs: Vec<(u32, Obs)>, values: Vec<u32>, threshold: Option<u32>) -> Vec<Option<u32>> {
    let mut wf = workflow();
    wf.values = values;
    let obs = observations(obs);
    let by_value = threshold.map(|threshold| ByValue { threshold });
    super::risky_isolated::check(&history(Protocol::Orchestrated, &wf, &obs, by_value))
        .into_iter()
        .map(|v| {
            assert_eq!(v.invariant, super::risky_isolated::NAME);
            v.tx
        })
        .collect()
}

/// `risky_isolated` trips on every anomaly naming a request of value at
/// least the threshold, as reader or victim, and on nothing else.
#[test]
fn risky_isolated_trips_on_anomalies_naming_a_risky_request_only() {
    // T0 charges, T1 charges on top, T0's refund restores the old balance:
    // a lost update (T0 wipes T1) and a dirty read (T1 read T0's charge).
    let interleaved = || {
        vec![
            (1, local(0, 0, A, -100)),
            (1, local(1, 0, A, -200)),
            (1, local(0, 0, C, 300)),
        ]
    };
    // T1 (value 2) risky: both anomalies name it, one violation each.
    assert_eq!(
        risky(interleaved(), vec![1, 2], Some(2)),
        [Some(1), Some(1)]
    );
    // T0 (value 2) risky: both name T0 too (as the writer, as the one read).
    assert_eq!(
        risky(interleaved(), vec![2, 1], Some(2)),
        [Some(0), Some(0)]
    );
    // Two cheap requests: their anomalies are the business's choice.
    assert_eq!(risky(interleaved(), vec![1, 1], Some(2)), []);
    // Without by value there is no promise to break.
    assert_eq!(risky(interleaved(), vec![1, 2], None), []);
    // Serial: T0 is undone before T1 starts.
    let serial = vec![
        (1, local(0, 0, A, -100)),
        (1, local(0, 0, C, 100)),
        (1, local(1, 0, A, -200)),
    ];
    assert_eq!(risky(serial, vec![1, 2], Some(2)), []);
}
