//! Who is on which channel, per tenant: the only place topics live. A topic is looked up
//! under the tenant of the token that joined it, so two tenants with the same topic name
//! never share a channel. Sends never wait: a socket whose queue is full is marked to close
//! (a client too slow to read must not hold the others up).
use super::message::{Encoded, Message};
use super::postgres_changes::Subscription;
use super::presence::Presence;
use super::visibility::{group_key, GroupKey};
use crate::auth::Identity;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use uuid::Uuid;

/// The tenant a channel belongs to (none: tokens of roles that act without a tenant).
pub type Scope = Option<Uuid>;

/// What a socket's task is asked to do by the rest of the server.
#[derive(Debug)]
pub enum Event {
    Send(Message),
    /// A message whose payload was encoded once for many sockets.
    SendEncoded(Encoded),
    /// The channel's rights are gone: tell the client why, close it, deliver nothing more.
    Revoke {
        topic: String,
        reason: String,
    },
}

/// A socket, as the hub reaches it.
#[derive(Clone)]
pub struct Outbox {
    pub conn: u64,
    events: mpsc::Sender<Event>,
    overflowed: Arc<AtomicBool>,
}

impl Outbox {
    pub fn new(conn: u64, events: mpsc::Sender<Event>, overflowed: Arc<AtomicBool>) -> Outbox {
        Outbox { conn, events, overflowed }
    }

    pub fn send(&self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.overflowed.store(true, Ordering::Relaxed);
        }
    }
}

/// One socket's membership of one topic.
#[derive(Clone)]
pub struct Member {
    pub outbox: Outbox,
    pub join_ref: Option<String>,
    pub broadcast_self: bool,
    pub presence_key: String,
    /// The token the channel acts with (it decides what the channel's changes may show), and
    /// the group of subscribers it shares a visibility check with.
    pub identity: Arc<Identity>,
    pub group: Arc<GroupKey>,
    pub subscriptions: Arc<Vec<Subscription>>,
}

#[derive(Default)]
struct Topic {
    members: HashMap<u64, Member>,
    presence: Presence,
}

/// A subscriber of changes, as the fan-out sees it: a snapshot taken under the lock.
pub struct Subscriber {
    pub topic: String,
    pub member: Member,
}

#[derive(Default)]
pub struct Hub {
    scopes: Mutex<HashMap<Scope, HashMap<String, Topic>>>,
}

impl Hub {
    fn with_topic<R>(&self, scope: Scope, topic: &str, f: impl FnOnce(&mut Topic) -> R) -> Option<R> {
        let mut scopes = self.scopes.lock().expect("hub lock");
        let topics = scopes.get_mut(&scope)?;
        let t = topics.get_mut(topic)?;
        let r = f(t);
        if t.members.is_empty() {
            topics.remove(topic);
            if topics.is_empty() {
                scopes.remove(&scope);
            }
        }
        Some(r)
    }

    /// Adds (or replaces) the socket's membership; returns the topic's presence state.
    pub fn join(&self, scope: Scope, topic: &str, member: Member) -> Value {
        let mut scopes = self.scopes.lock().expect("hub lock");
        let t = scopes.entry(scope).or_default().entry(topic.to_string()).or_default();
        t.members.insert(member.outbox.conn, member);
        t.presence.state()
    }

    /// Removes the socket from the topic; whoever it tracked leaves the others' presence.
    pub fn leave(&self, scope: Scope, topic: &str, conn: u64) {
        self.with_topic(scope, topic, |t| {
            t.members.remove(&conn);
            if let Some(diff) = t.presence.untrack(conn) {
                send_all(t, topic, None, "presence_diff", &diff);
            }
        });
    }

    /// The new identity of a channel after an `access_token` refresh.
    pub fn update_identity(&self, scope: Scope, topic: &str, conn: u64, identity: Arc<Identity>) {
        self.with_topic(scope, topic, |t| {
            if let Some(m) = t.members.get_mut(&conn) {
                m.group = Arc::new(group_key(&identity));
                m.identity = identity;
            }
        });
    }

    /// A broadcast to the topic's members, the sender too when it asked for `self`.
    pub fn broadcast(&self, scope: Scope, topic: &str, from: Option<u64>, payload: &Value) {
        self.with_topic(scope, topic, |t| {
            let skip = from.filter(|conn| t.members.get(conn).is_some_and(|m| !m.broadcast_self));
            send_all(t, topic, skip, "broadcast", payload);
        });
    }

    pub fn track(&self, scope: Scope, topic: &str, conn: u64, meta: Value) {
        self.with_topic(scope, topic, |t| {
            let Some(key) = t.members.get(&conn).map(|m| m.presence_key.clone()) else { return };
            let diff = t.presence.track(conn, &key, meta);
            send_all(t, topic, None, "presence_diff", &diff);
        });
    }

    pub fn untrack(&self, scope: Scope, topic: &str, conn: u64) {
        self.with_topic(scope, topic, |t| {
            if let Some(diff) = t.presence.untrack(conn) {
                send_all(t, topic, None, "presence_diff", &diff);
            }
        });
    }

    /// The tenant's members that subscribed to changes: routing starts from the tenant.
    pub fn subscribers(&self, tenant: Uuid) -> Vec<Subscriber> {
        let scopes = self.scopes.lock().expect("hub lock");
        let Some(topics) = scopes.get(&Some(tenant)) else { return Vec::new() };
        topics
            .iter()
            .flat_map(|(topic, t)| {
                t.members
                    .values()
                    .filter(|m| !m.subscriptions.is_empty())
                    .map(|m| Subscriber { topic: topic.clone(), member: m.clone() })
            })
            .collect()
    }

    /// What is joined now: channels (a topic of a tenant), socket memberships of them, and the
    /// tenants they belong to (none: a tenantless role's).
    pub fn counts(&self) -> (usize, usize, usize) {
        let scopes = self.scopes.lock().expect("hub lock");
        let topics = scopes.values().flat_map(|topics| topics.values());
        let (channels, members) = topics.fold((0, 0), |(c, m), t| (c + 1, m + t.members.len()));
        (channels, members, scopes.keys().filter(|s| s.is_some()).count())
    }

    /// Every member of a tenant's channel (for the rights watcher).
    pub fn tenant_members(&self) -> Vec<Subscriber> {
        let scopes = self.scopes.lock().expect("hub lock");
        scopes
            .iter()
            .filter(|(scope, _)| scope.is_some())
            .flat_map(|(_, topics)| {
                topics.iter().flat_map(|(topic, t)| {
                    t.members.values().map(move |m| Subscriber { topic: topic.clone(), member: m.clone() })
                })
            })
            .collect()
    }
}

fn send_all(t: &Topic, topic: &str, skip: Option<u64>, event: &str, payload: &Value) {
    for (conn, m) in &t.members {
        if Some(*conn) != skip {
            let mut message = Message::new(topic, event, payload.clone());
            message.join_ref = m.join_ref.clone();
            m.outbox.send(Event::Send(message));
        }
    }
}
