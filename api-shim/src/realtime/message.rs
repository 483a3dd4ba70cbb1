//! Phoenix channel messages and the two serializers realtime-js speaks (`vsn` in the socket's
//! query): `1.0.0` sends and expects JSON objects `{join_ref, ref, topic, event, payload}`;
//! `2.0.0` JSON arrays `[join_ref, ref, topic, event, payload]`, and pushes a user broadcast
//! as a binary frame (kind 3: lengths, then join_ref, ref, topic, event, metadata, payload).
//! We answer both in JSON text, which both decoders read.
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub join_ref: Option<String>,
    pub msg_ref: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

impl Message {
    pub fn new(topic: &str, event: &str, payload: Value) -> Message {
        Message { join_ref: None, msg_ref: None, topic: topic.to_string(), event: event.to_string(), payload }
    }

    /// The answer to this message: `phx_reply` with its refs, `status` and `response`.
    pub fn reply(&self, status: &str, response: Value) -> Message {
        Message {
            join_ref: self.join_ref.clone(),
            msg_ref: self.msg_ref.clone(),
            topic: self.topic.clone(),
            event: "phx_reply".into(),
            payload: json!({"status": status, "response": response}),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Vsn {
    V1,
    V2,
}

impl Vsn {
    /// The `vsn` query parameter; none is Phoenix's default, 1.0.0.
    pub fn parse(value: Option<&str>) -> Result<Vsn, String> {
        match value {
            None | Some("1.0.0") => Ok(Vsn::V1),
            Some("2.0.0") => Ok(Vsn::V2),
            Some(other) => Err(format!("unsupported serializer version \"{other}\" (1.0.0 or 2.0.0)")),
        }
    }
}

/// Why a frame is not a message; the socket answers with it and goes on.
#[derive(Debug, PartialEq)]
pub struct FrameError(pub String);

fn bad(why: impl Into<String>) -> FrameError {
    FrameError(why.into())
}

/// A ref is a string in realtime-js; a number is taken as its text, anything else refused.
fn reference(value: Option<&Value>, name: &str) -> Result<Option<String>, FrameError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(format!("{name} must be a string"))),
    }
}

fn text_field(value: Option<&Value>, name: &str) -> Result<String, FrameError> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(bad(format!("{name} must be a non-empty string"))),
    }
}

pub fn decode_text(vsn: Vsn, text: &str) -> Result<Message, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let (join_ref, msg_ref, topic, event, payload) = match (vsn, &value) {
        (Vsn::V2, Value::Array(items)) if items.len() == 5 => (&items[0], &items[1], &items[2], &items[3], &items[4]),
        (Vsn::V2, _) => return Err(bad("a message is an array [join_ref, ref, topic, event, payload]")),
        (Vsn::V1, Value::Object(o)) => (
            o.get("join_ref").unwrap_or(&Value::Null),
            o.get("ref").unwrap_or(&Value::Null),
            o.get("topic").unwrap_or(&Value::Null),
            o.get("event").unwrap_or(&Value::Null),
            o.get("payload").unwrap_or(&Value::Null),
        ),
        (Vsn::V1, _) => return Err(bad("a message is an object {join_ref, ref, topic, event, payload}")),
    };
    if !matches!(payload, Value::Object(_)) {
        return Err(bad("payload must be an object"));
    }
    Ok(Message {
        join_ref: reference(Some(join_ref), "join_ref")?,
        msg_ref: reference(Some(msg_ref), "ref")?,
        topic: text_field(Some(topic), "topic")?,
        event: text_field(Some(event), "event")?,
        payload: payload.clone(),
    })
}

/// Kind 3 of the 2.0.0 serializer: a user broadcast pushed by the client.
const USER_BROADCAST_PUSH: u8 = 3;
const JSON_ENCODING: u8 = 1;

pub fn decode_binary(bytes: &[u8]) -> Result<Message, FrameError> {
    let header = bytes.get(..7).ok_or_else(|| bad("binary frame shorter than its header"))?;
    if header[0] != USER_BROADCAST_PUSH {
        return Err(bad(format!("binary frame of unknown kind {}", header[0])));
    }
    if header[6] != JSON_ENCODING {
        return Err(bad("binary broadcast payloads are not supported: send JSON"));
    }
    let mut rest = &bytes[7..];
    let mut field = |len: u8, name: &str| -> Result<String, FrameError> {
        let len = len as usize;
        let part = rest.get(..len).ok_or_else(|| bad(format!("binary frame ends inside its {name}")))?;
        rest = &rest[len..];
        String::from_utf8(part.to_vec()).map_err(|_| bad(format!("{name} is not UTF-8")))
    };
    let join_ref = field(header[1], "join_ref")?;
    let msg_ref = field(header[2], "ref")?;
    let topic = field(header[3], "topic")?;
    let event = field(header[4], "event")?;
    let _metadata = field(header[5], "metadata")?;
    let user_payload: Value =
        serde_json::from_slice(rest).map_err(|e| bad(format!("broadcast payload is not JSON: {e}")))?;
    if topic.is_empty() {
        return Err(bad("topic must be a non-empty string"));
    }
    Ok(Message {
        join_ref: (!join_ref.is_empty()).then_some(join_ref),
        msg_ref: (!msg_ref.is_empty()).then_some(msg_ref),
        topic,
        event: "broadcast".into(),
        payload: json!({"type": "broadcast", "event": event, "payload": user_payload}),
    })
}

pub fn encode(vsn: Vsn, m: &Message) -> String {
    envelope(vsn, &m.join_ref, &m.msg_ref, &m.topic, &m.event, &m.payload.to_string())
}

/// A message whose payload is JSON text already: a change encoded once for many subscribers.
#[derive(Debug)]
pub struct Encoded {
    pub topic: String,
    pub join_ref: Option<String>,
    pub event: &'static str,
    pub payload: String,
}

impl Encoded {
    pub fn encode(&self, vsn: Vsn) -> String {
        envelope(vsn, &self.join_ref, &None, &self.topic, self.event, &self.payload)
    }
}

/// The message around a payload that is JSON text.
fn envelope(
    vsn: Vsn,
    join_ref: &Option<String>,
    msg_ref: &Option<String>,
    topic: &str,
    event: &str,
    payload: &str,
) -> String {
    let (j, r, t, e) = (json!(join_ref), json!(msg_ref), json!(topic), json!(event));
    match vsn {
        Vsn::V1 => format!(r#"{{"join_ref":{j},"ref":{r},"topic":{t},"event":{e},"payload":{payload}}}"#),
        Vsn::V2 => format!("[{j},{r},{t},{e},{payload}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_serializers_read_and_write_the_same_message() {
        let m = Message {
            join_ref: Some("1".into()),
            msg_ref: Some("2".into()),
            topic: "realtime:room".into(),
            event: "phx_join".into(),
            payload: json!({"config": {}}),
        };
        for vsn in [Vsn::V1, Vsn::V2] {
            assert_eq!(decode_text(vsn, &encode(vsn, &m)).unwrap(), m);
        }
        assert_eq!(encode(Vsn::V2, &m), r#"["1","2","realtime:room","phx_join",{"config":{}}]"#);
    }

    #[test]
    fn a_payload_encoded_once_reads_as_the_message() {
        let e = Encoded {
            topic: "realtime:\"q\"".into(),
            join_ref: Some("4".into()),
            event: "postgres_changes",
            payload: r#"{"ids":[7],"data":{"n":1}}"#.into(),
        };
        for vsn in [Vsn::V1, Vsn::V2] {
            let m = decode_text(vsn, &e.encode(vsn)).unwrap();
            assert_eq!((m.join_ref.as_deref(), m.msg_ref, m.topic.as_str()), (Some("4"), None, "realtime:\"q\""));
            assert_eq!((m.event.as_str(), m.payload), ("postgres_changes", json!({"ids": [7], "data": {"n": 1}})));
        }
    }

    #[test]
    fn malformed_frames_are_refused_with_a_reason() {
        for (vsn, text) in [
            (Vsn::V2, "not json"),
            (Vsn::V2, r#"{"topic":"t"}"#),
            (Vsn::V2, r#"[null,null,"t","e"]"#),
            (Vsn::V2, r#"[null,null,"","e",{}]"#),
            (Vsn::V2, r#"[null,null,"t","e",[]]"#),
            (Vsn::V2, r#"[{},null,"t","e",{}]"#),
            (Vsn::V1, r#"["1","2","t","e",{}]"#),
            (Vsn::V1, r#"{"topic":"t","payload":{}}"#),
        ] {
            assert!(decode_text(vsn, text).is_err(), "{text}");
        }
    }

    fn push(join_ref: &str, topic: &str, event: &str, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![3, join_ref.len() as u8, 1, topic.len() as u8, event.len() as u8, 0, 1];
        b.extend_from_slice(join_ref.as_bytes());
        b.push(b'7');
        b.extend_from_slice(topic.as_bytes());
        b.extend_from_slice(event.as_bytes());
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn a_binary_broadcast_push_becomes_a_broadcast() {
        let m = decode_binary(&push("1", "realtime:room", "hello", br#"{"n":1}"#)).unwrap();
        assert_eq!(
            (m.join_ref.as_deref(), m.msg_ref.as_deref(), m.topic.as_str()),
            (Some("1"), Some("7"), "realtime:room")
        );
        assert_eq!(m.payload, json!({"type": "broadcast", "event": "hello", "payload": {"n": 1}}));
        let mut truncated = push("1", "realtime:room", "hello", b"{}");
        truncated.truncate(12);
        for bad in [vec![], vec![4, 0, 0, 0, 0, 0, 1], truncated, push("1", "r", "e", b"{oops")] {
            assert!(decode_binary(&bad).is_err(), "{bad:?}");
        }
    }
}
