//! `/realtime/v1/websocket?apikey=<token>&vsn=1.0.0|2.0.0`: the token is checked before the
//! upgrade (a bad one gets REST's 401 body); then one task per socket reads frames, answers
//! them, writes what the hub sends it and, a few times a second, closes channels whose token
//! has expired. A frame that is not a message is answered and the socket goes on; a frame
//! over the size limit closes the socket (1009).
use super::channel::Channel;
use super::hub::{Event, Outbox};
use super::message::{self, Message, Vsn};
use super::Realtime;
use crate::auth::{self, Identity};
use crate::error::ApiError;
use crate::query_grammar::GrammarError;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages waiting for a slow client before it is disconnected.
const OUTBOX: usize = 4096;
/// What one read of a socket takes at most (a larger frame takes several). The default, 128
/// KiB, is held by every socket and zeroed before every read: a thousand sockets spent a fifth
/// of the server's CPU on that, for the few small frames a client sends.
const READ_BUFFER: usize = 4096;
/// Messages written at most before one flush.
const WRITE_BATCH: usize = 64;
/// How often token expiry is checked (the promise: closed within a second).
const TICK: Duration = Duration::from_millis(200);

pub async fn upgrade(
    State(rt): State<Arc<Realtime>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let vsn = match Vsn::parse(query.get("vsn").map(String::as_str)) {
        Ok(vsn) => vsn,
        Err(why) => {
            let vsn = query.get("vsn").map_or("", String::as_str);
            return ApiError::Grammar(GrammarError::new(why, vsn)).into_response();
        }
    };
    let bearer = query.get("apikey").map(|key| format!("Bearer {key}"));
    let identity = match auth::authenticate(&rt.app.config, bearer.as_deref()) {
        Ok(identity) => Arc::new(identity),
        Err(error) => return error.into_response(),
    };
    let limit = rt.app.config.realtime.max_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve(socket, rt, vsn, identity))
}

/// One socket's state: its channels by topic.
pub struct Socket {
    pub rt: Arc<Realtime>,
    pub vsn: Vsn,
    pub identity: Arc<Identity>,
    pub outbox: Outbox,
    pub channels: HashMap<String, Channel>,
}

async fn serve(ws: WebSocket, rt: Arc<Realtime>, vsn: Vsn, identity: Arc<Identity>) {
    let _open = rt.socket_opened();
    let (mut sink, mut stream) = ws.split();
    let (events_tx, mut events) = mpsc::channel(OUTBOX);
    let overflowed = Arc::new(AtomicBool::new(false));
    let outbox = Outbox::new(rt.next_conn(), events_tx, overflowed.clone());
    let mut socket = Socket { rt, vsn, identity, outbox, channels: HashMap::new() };
    let mut tick = tokio::time::interval(TICK);
    loop {
        let frames = tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(frame)) => match socket.frame(frame).await {
                    Ok(out) => socket.encode(out),
                    Err(close) => {
                        let _ = sink.send(Frame::Close(Some(close))).await;
                        break;
                    }
                },
                Some(Err(e)) => {
                    let _ = sink.send(Frame::Close(Some(read_failure(&e)))).await;
                    break;
                }
                None => break,
            },
            Some(event) = events.recv() => {
                // What else is waiting goes out in the same write.
                let mut frames = socket.event(event);
                while frames.len() < WRITE_BATCH {
                    let Ok(event) = events.try_recv() else { break };
                    frames.extend(socket.event(event));
                }
                frames
            }
            _ = tick.tick() => {
                if overflowed.load(Ordering::Relaxed) {
                    let close = CloseFrame { code: 1008, reason: "too slow: messages were waiting".into() };
                    let _ = sink.send(Frame::Close(Some(close))).await;
                    break;
                }
                let expired = socket.expire();
                socket.encode(expired)
            }
        };
        if write(&mut sink, frames).await.is_err() {
            break;
        }
    }
    socket.leave_all();
}

/// Frames out in one flush.
async fn write(sink: &mut SplitSink<WebSocket, Frame>, frames: Vec<String>) -> Result<(), axum::Error> {
    if frames.is_empty() {
        return Ok(());
    }
    for text in frames {
        sink.feed(Frame::Text(text.into())).await?;
    }
    sink.flush().await
}

/// Why reading failed, as the close frame says it: a frame over the size limit is 1009
/// ("message too big"), anything else a protocol error.
fn read_failure(e: &axum::Error) -> CloseFrame {
    let text = e.to_string();
    match text.contains("Space limit exceeded") {
        true => CloseFrame { code: 1009, reason: "message too big".into() },
        false => CloseFrame { code: 1002, reason: "protocol error".into() },
    }
}

impl Socket {
    /// One frame in, the messages to answer with (or the socket closes).
    async fn frame(&mut self, frame: Frame) -> Result<Vec<Message>, CloseFrame> {
        let decoded = match frame {
            Frame::Text(text) => message::decode_text(self.vsn, text.as_str()),
            Frame::Binary(bytes) => message::decode_binary(&bytes),
            Frame::Close(_) => return Err(CloseFrame { code: 1000, reason: "".into() }),
            Frame::Ping(_) | Frame::Pong(_) => return Ok(Vec::new()),
        };
        match decoded {
            Ok(m) => Ok(self.message(m).await),
            // Phoenix's own topic carries socket-level errors; the client logs them.
            Err(e) => Ok(vec![Message::new("phoenix", "phx_error", json!({"reason": e.0}))]),
        }
    }

    async fn message(&mut self, m: Message) -> Vec<Message> {
        match (m.topic.as_str(), m.event.as_str()) {
            ("phoenix", "heartbeat") => vec![m.reply("ok", json!({}))],
            (_, "phx_join") => self.join(&m).await,
            (topic, _) if !self.channels.contains_key(topic) => {
                vec![m.reply("error", json!({"reason": "unmatched topic"}))]
            }
            (_, "phx_leave") => self.leave(&m),
            (_, "access_token") => self.refresh(&m),
            (_, "broadcast") => self.broadcast(&m),
            (_, "presence") => self.presence(&m),
            (_, event) => vec![m.reply("error", json!({"reason": format!("unknown event \"{event}\"")}))],
        }
    }

    /// What the hub sent, as frames for this socket (nothing for a channel it has left).
    fn event(&mut self, event: Event) -> Vec<String> {
        match event {
            Event::Send(m) if self.channels.contains_key(&m.topic) => vec![message::encode(self.vsn, &m)],
            Event::SendEncoded(e) if self.channels.contains_key(&e.topic) => vec![e.encode(self.vsn)],
            Event::Send(_) | Event::SendEncoded(_) => Vec::new(),
            Event::Revoke { topic, reason } => {
                let out = self.shut(&topic, &reason);
                self.encode(out)
            }
        }
    }

    fn encode(&self, out: Vec<Message>) -> Vec<String> {
        out.iter().map(|m| message::encode(self.vsn, m)).collect()
    }
}
