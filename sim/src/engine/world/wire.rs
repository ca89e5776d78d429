//! The world's wire: sending (with the faults tied to messages), network
//! copies, and drops and duplicates of messages already in flight.

use super::super::trigger::Fired;
use super::{Pending, World};
use crate::engine::{
    DropReason, EventKind, Fate, Fault, MessageAction, MsgId, Node, NodeId, SimTime,
};

/// What a message fault does to one message, if anything.
type Action = Option<(Option<(SimTime, u32)>, MessageAction)>;

impl<N: Node> World<N> {
    pub(super) fn send(&mut self, from: NodeId, to: NodeId, msg: N::Msg) {
        assert!(to.index() < self.nodes.len(), "send to unknown node {to}");
        let id = self.new_msg_id();
        self.stats.sent += 1;
        self.trace
            .push(self.now, EventKind::Send { msg: id, from, to });
        self.trace.message_sent(id, &msg);
        if self.pool.is_some() {
            return self.send_chosen(id, from, to, msg);
        }
        if !self.triggers.is_empty() {
            return self.send_watched(id, from, to, msg);
        }
        match self.net.route(self.now, from, to) {
            Fate::Dropped(reason) => self.drop_msg(id, from, to, reason),
            Fate::Arrives(at, copy) => {
                if let Some(copy_at) = copy {
                    let cid = self.new_copy(id, &msg);
                    let dup = Pending::Deliver {
                        id: cid,
                        from,
                        to,
                        msg: msg.clone(),
                    };
                    self.queue.push(copy_at, dup);
                }
                self.queue.push(at, Pending::Deliver { id, from, to, msg });
            }
        }
    }

    /// A copy of message `id` made by the network or a fault.
    pub(in crate::engine) fn new_copy(&mut self, id: MsgId, msg: &N::Msg) -> MsgId {
        let cid = self.new_msg_id();
        self.stats.duplicated += 1;
        self.trace
            .push(self.now, EventKind::Duplicate { msg: id, copy: cid });
        self.trace.message_sent(cid, msg);
        cid
    }

    /// `send` with faults tied to messages: the same network draws, then
    /// each message put on the wire meets the message faults and fires the
    /// triggers waiting for it. Every message put on the wire counts, in
    /// trace order: a node's send (even one the network loses), a network
    /// copy, a copy a fault makes.
    fn send_watched(&mut self, id: MsgId, from: NodeId, to: NodeId, msg: N::Msg) {
        let (at, copy_at) = match self.net.route(self.now, from, to) {
            Fate::Dropped(reason) => {
                let (fired, _) = self.count(from, to, &msg);
                self.drop_msg(id, from, to, reason);
                return self.apply_fired(fired);
            }
            Fate::Arrives(at, copy) => (at, copy),
        };
        let copy = copy_at.map(|c| (self.new_copy(id, &msg), c));
        let (mut fired, action) = self.count(from, to, &msg);
        // The queue gets the copy first, as an unwatched send does, so ties
        // at one time break the same way with or without these faults.
        if let Some((cid, copy_at)) = copy {
            let (more, copy_action) = self.count(from, to, &msg);
            fired.extend(more);
            fired.extend(self.put_on_wire(cid, from, to, copy_at, msg.clone(), copy_action));
        }
        fired.extend(self.put_on_wire(id, from, to, at, msg, action));
        self.apply_fired(fired);
    }

    /// Count one message put on the wire: the faults it releases and what
    /// its message fault (if it is one's Nth match) does to it.
    fn count(&mut self, from: NodeId, to: NodeId, msg: &N::Msg) -> (Vec<Fired>, Action) {
        let fired = self.triggers.sent::<N>(from, to, msg);
        (fired, self.triggers.message_fault::<N>(from, to, msg))
    }

    /// Schedule one message's arrival at `at`, as its message fault says;
    /// returns what a copy made here released.
    fn put_on_wire(
        &mut self,
        id: MsgId,
        from: NodeId,
        to: NodeId,
        at: SimTime,
        msg: N::Msg,
        action: Action,
    ) -> Vec<Fired> {
        let deliver = |id, msg| Pending::Deliver { id, from, to, msg };
        match action {
            None => self.queue.push(at, deliver(id, msg)),
            Some((_, MessageAction::Delay(d))) => self.queue.push(at + d, deliver(id, msg)),
            Some((Some((after, rank)), action)) => {
                let fault = match action {
                    MessageAction::Drop => Fault::DropMessage(id),
                    _ => Fault::DuplicateMessage(id),
                };
                self.queue.push(at, deliver(id, msg));
                return vec![(after, rank, fault)];
            }
            Some((None, MessageAction::Drop)) => {
                self.drop_msg(id, from, to, DropReason::Injected);
            }
            Some((None, MessageAction::Duplicate)) => {
                let cid = self.new_copy(id, &msg);
                self.queue.push(at, deliver(id, msg.clone()));
                let (mut fired, copy_action) = self.count(from, to, &msg);
                fired.extend(self.put_on_wire(cid, from, to, at, msg, copy_action));
                return fired;
            }
        }
        Vec::new()
    }

    fn new_msg_id(&mut self) -> MsgId {
        let id = MsgId(self.next_msg);
        self.next_msg = self
            .next_msg
            .checked_add(1)
            .expect("fewer than 2^32 messages");
        id
    }

    pub(in crate::engine) fn drop_msg(
        &mut self,
        msg: MsgId,
        from: NodeId,
        to: NodeId,
        reason: DropReason,
    ) {
        self.stats.dropped += 1;
        self.trace.push(
            self.now,
            EventKind::Drop {
                msg,
                from,
                to,
                reason,
            },
        );
    }

    pub(super) fn drop_in_flight(&mut self, target: MsgId) {
        if self.pool.is_some() {
            return self.drop_chosen(target);
        }
        let Some(m) = self.in_flight().into_iter().find(|m| m.id == target) else {
            return;
        };
        self.queue
            .retain(|p| !matches!(p, Pending::Deliver { id, .. } if *id == target));
        self.drop_msg(m.id, m.from, m.to, DropReason::Injected);
    }

    pub(super) fn duplicate_in_flight(&mut self, target: MsgId) {
        if self.pool.is_some() {
            return self.duplicate_chosen(target);
        }
        let copy = self.queue.iter().find_map(|(at, p)| match p {
            Pending::Deliver { id, from, to, msg } if *id == target => {
                Some((at, *from, *to, msg.clone()))
            }
            _ => None,
        });
        let Some((at, from, to, msg)) = copy else {
            return;
        };
        let cid = self.new_copy(target, &msg);
        if !self.triggers.is_empty() {
            let (mut fired, action) = self.count(from, to, &msg);
            fired.extend(self.put_on_wire(cid, from, to, at, msg, action));
            return self.apply_fired(fired);
        }
        let dup = Pending::Deliver {
            id: cid,
            from,
            to,
            msg,
        };
        self.queue.push(at, dup);
    }
}
