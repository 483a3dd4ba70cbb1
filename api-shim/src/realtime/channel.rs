//! A socket's channels: join (the token, the config, the Postgres Changes it may have), leave,
//! `access_token` refresh, and the closing of a channel whose rights are gone (a `system`
//! error message the client shows, then `phx_close`: it does not rejoin on its own). Broadcast
//! and Presence from the client go to the hub under the channel's tenant.
use super::access::{self, refusal, Refusal};
use super::hub::{Member, Scope};
use super::message::Message;
use super::postgres_changes::{self, Subscription};
use super::socket::Socket;
use super::visibility::group_key;
use crate::auth::{self, Identity};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Channel {
    pub join_ref: Option<String>,
    pub scope: Scope,
    pub identity: Arc<Identity>,
    /// `broadcast.ack`: each broadcast the client sends is answered.
    pub ack: bool,
}

/// The name realtime-js gave the channel (`realtime:room` → `room`), for system messages.
fn channel_name(topic: &str) -> &str {
    topic.strip_prefix("realtime:").unwrap_or(topic)
}

fn system(topic: &str, join_ref: Option<String>, extension: &str, status: &str, message: &str) -> Message {
    let mut m = Message::new(
        topic,
        "system",
        json!({"extension": extension, "status": status, "message": message, "channel": channel_name(topic)}),
    );
    m.join_ref = join_ref;
    m
}

fn flag(config: &Value, section: &str, key: &str) -> bool {
    config.get(section).and_then(|s| s.get(key)).and_then(Value::as_bool).unwrap_or(false)
}

/// Seconds since the epoch at which the token stops being valid, if it says.
fn expires_at(identity: &Identity) -> Option<i64> {
    identity.claims.get("exp").and_then(Value::as_i64)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Socket {
    /// The token a message names (`access_token` in its payload), or the socket's.
    fn token_identity(&self, payload: &Value) -> Result<Arc<Identity>, Refusal> {
        match payload.get("access_token") {
            None | Some(Value::Null) => Ok(self.identity.clone()),
            Some(Value::String(token)) => auth::authenticate(&self.rt.app.config, Some(&format!("Bearer {token}")))
                .map(Arc::new)
                .map_err(Refusal::from),
            Some(_) => Err(refusal(StatusCode::BAD_REQUEST, "PGRST100", "access_token must be a string")),
        }
    }

    pub async fn join(&mut self, m: &Message) -> Vec<Message> {
        match self.admit(m).await {
            Ok(out) => out,
            Err(Refusal(body)) => vec![m.reply("error", body)],
        }
    }

    async fn admit(&mut self, m: &Message) -> Result<Vec<Message>, Refusal> {
        let (identity, config, subscriptions) = self.authorize(m).await?;
        Ok(self.enter(m, identity, &config, Arc::new(subscriptions)))
    }

    /// Whether the join may happen: room on the socket, a good token, a config we serve, and
    /// Postgres Changes the database lets this token have.
    async fn authorize(&self, m: &Message) -> Result<(Arc<Identity>, Value, Vec<Subscription>), Refusal> {
        let max = self.rt.app.config.realtime.max_channels;
        if self.channels.len() >= max && !self.channels.contains_key(&m.topic) {
            let why = format!("Too many channels: a socket may join {max}");
            return Err(refusal(StatusCode::TOO_MANY_REQUESTS, "PGRST100", why));
        }
        let identity = self.token_identity(&m.payload)?;
        let config = m.payload.get("config").cloned().unwrap_or(json!({}));
        if config.get("private").and_then(Value::as_bool) == Some(true) {
            return Err(refusal(StatusCode::BAD_REQUEST, "PGRST100", "private channels are not supported"));
        }
        let requests =
            postgres_changes::requests(&config).map_err(|why| refusal(StatusCode::BAD_REQUEST, "PGRST100", why))?;
        if !requests.is_empty() && !self.rt.changes_enabled() {
            let why = "Postgres Changes are not enabled on this server (TENANCY_REALTIME_REPLICATION_URI)";
            return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", why));
        }
        if !requests.is_empty() && !self.rt.stream_ready().await {
            let why = "The replication stream is not available now: try again";
            return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", why));
        }
        let subscriptions = access::subscribe(&self.rt.app, &identity, requests).await?;
        Ok((identity, config, subscriptions))
    }

    /// The channel joined (a rejoin replaces the earlier membership): the reply with the
    /// subscription ids, the presence state if asked, the `system` message for changes.
    fn enter(
        &mut self,
        m: &Message,
        identity: Arc<Identity>,
        config: &Value,
        subscriptions: Arc<Vec<Subscription>>,
    ) -> Vec<Message> {
        if let Some(old) = self.channels.remove(&m.topic) {
            self.rt.hub.leave(old.scope, &m.topic, self.outbox.conn);
        }
        let scope = identity.tenant;
        let presence_key = match config.get("presence").and_then(|p| p.get("key")).and_then(Value::as_str) {
            Some(key) if !key.is_empty() => key.to_string(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let member = Member {
            outbox: self.outbox.clone(),
            join_ref: m.join_ref.clone(),
            broadcast_self: flag(config, "broadcast", "self"),
            presence_key,
            group: Arc::new(group_key(&identity)),
            identity: identity.clone(),
            subscriptions: subscriptions.clone(),
        };
        let state = self.rt.hub.join(scope, &m.topic, member);
        let changes: Vec<Value> = subscriptions.iter().map(Subscription::reply).collect();
        let mut out = vec![m.reply("ok", json!({"postgres_changes": changes}))];
        if flag(config, "presence", "enabled") {
            let mut s = Message::new(&m.topic, "presence_state", state);
            s.join_ref = m.join_ref.clone();
            out.push(s);
        }
        if !subscriptions.is_empty() {
            out.push(system(&m.topic, m.join_ref.clone(), "postgres_changes", "ok", "Subscribed to PostgreSQL"));
        }
        let ack = flag(config, "broadcast", "ack");
        self.channels.insert(m.topic.clone(), Channel { join_ref: m.join_ref.clone(), scope, identity, ack });
        out
    }

    pub fn leave(&mut self, m: &Message) -> Vec<Message> {
        if let Some(c) = self.channels.remove(&m.topic) {
            self.rt.hub.leave(c.scope, &m.topic, self.outbox.conn);
        }
        vec![m.reply("ok", json!({}))]
    }

    pub fn leave_all(&mut self) {
        for (topic, c) in self.channels.drain() {
            self.rt.hub.leave(c.scope, &topic, self.outbox.conn);
        }
    }

    /// A refreshed token: it must verify and act for the same tenant and role as the channel.
    pub fn refresh(&mut self, m: &Message) -> Vec<Message> {
        let identity = match self.token_identity(&m.payload) {
            Ok(identity) => identity,
            Err(Refusal(body)) => {
                let why = body.get("message").and_then(Value::as_str).unwrap_or("invalid token").to_string();
                return self.shut(&m.topic, &why);
            }
        };
        let channel = self.channels.get_mut(&m.topic).expect("joined (checked by the caller)");
        if identity.tenant != channel.identity.tenant || identity.role != channel.identity.role {
            return self.shut(&m.topic, "The new token acts for another tenant or role: join again");
        }
        channel.identity = identity.clone();
        self.rt.hub.update_identity(channel.scope, &m.topic, self.outbox.conn, identity);
        Vec::new()
    }

    /// Closes the channel: a `system` error saying why, then `phx_close`.
    pub fn shut(&mut self, topic: &str, reason: &str) -> Vec<Message> {
        let Some(c) = self.channels.remove(topic) else { return Vec::new() };
        self.rt.hub.leave(c.scope, topic, self.outbox.conn);
        let mut close = Message::new(topic, "phx_close", json!({}));
        close.join_ref = c.join_ref.clone();
        close.msg_ref = c.join_ref.clone();
        vec![system(topic, c.join_ref, "system", "error", reason), close]
    }

    /// Channels whose token has expired are closed.
    pub fn expire(&mut self) -> Vec<Message> {
        let now = now();
        let expired: Vec<(String, i64)> = self
            .channels
            .iter()
            .filter_map(|(topic, c)| expires_at(&c.identity).filter(|exp| *exp <= now).map(|exp| (topic.clone(), exp)))
            .collect();
        expired
            .into_iter()
            .flat_map(|(topic, exp)| self.shut(&topic, &format!("Token has expired {} seconds ago", now - exp)))
            .collect()
    }

    pub fn broadcast(&mut self, m: &Message) -> Vec<Message> {
        let Channel { scope, ack, .. } = self.channels[&m.topic];
        if m.payload.get("event").and_then(Value::as_str).is_none() {
            return vec![m.reply("error", json!({"reason": "a broadcast needs an event name"}))];
        }
        let payload = json!({"type": "broadcast", "event": m.payload["event"], "payload": m.payload.get("payload").cloned().unwrap_or(json!({}))});
        self.rt.hub.broadcast(scope, &m.topic, Some(self.outbox.conn), &payload);
        match ack {
            true => vec![m.reply("ok", json!({}))],
            false => Vec::new(),
        }
    }

    pub fn presence(&mut self, m: &Message) -> Vec<Message> {
        let scope = self.channels[&m.topic].scope;
        match m.payload.get("event").and_then(Value::as_str) {
            Some("track") => {
                let meta = m.payload.get("payload").cloned().unwrap_or(json!({}));
                self.rt.hub.track(scope, &m.topic, self.outbox.conn, meta);
            }
            Some("untrack") => self.rt.hub.untrack(scope, &m.topic, self.outbox.conn),
            _ => return vec![m.reply("error", json!({"reason": "presence event must be track or untrack"}))],
        }
        vec![m.reply("ok", json!({}))]
    }
}
