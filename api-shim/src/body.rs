//! The request body, decoded by its `Content-Type` into the JSON the planner reads: JSON,
//! CSV (`text/csv`) or a form (`application/x-www-form-urlencoded`), within the size limit. A
//! function call's body may also be taken whole (`text/plain`, `text/xml`,
//! `application/octet-stream`) by a function of one unnamed parameter of its type.
use crate::error::{ApiError, Unnamed};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::Arc;

/// The decoded body: an object or an array of objects for writes, an object of arguments
/// for function calls.
pub struct Payload(pub Value);

/// A function call's body: its arguments as a write's body is decoded, and what one unnamed
/// parameter would take it whole as (PostgREST's `findProc`).
pub struct CallBody {
    /// An object of named arguments (of an array, the first); `null` for none, or a raw body.
    pub value: Value,
    /// None for CSV and forms, whose rows are only ever named arguments.
    pub whole: Option<WholeBody>,
    /// A form's pairs in order: text arguments, as a GET's query string gives them (a repeated
    /// name's last value, or every value of a variadic parameter).
    pub form: Option<Vec<(String, String)>>,
}

/// A body as the one unnamed parameter of a function takes it, by `Content-Type`.
#[derive(Debug, Clone, PartialEq)]
pub enum WholeBody {
    /// JSON: the decoded value, for a `json` or `jsonb` parameter.
    Json,
    /// `text/plain`, for a `text` parameter.
    Text(String),
    /// `text/xml`, for an `xml` parameter (PostgreSQL checks it is XML).
    Xml(String),
    /// `application/octet-stream`, for a `bytea` parameter.
    Bytes(Vec<u8>),
}

impl WholeBody {
    /// The parameter types that take it.
    pub fn types(&self) -> &'static [&'static str] {
        match self {
            WholeBody::Json => &["json", "jsonb"],
            WholeBody::Text(_) => &["text"],
            WholeBody::Xml(_) => &["xml"],
            WholeBody::Bytes(_) => &["bytea"],
        }
    }

    /// Raw bodies have no argument names: only a function of one unnamed parameter takes them.
    pub fn is_raw(&self) -> bool {
        !matches!(self, WholeBody::Json)
    }

    /// How a call that matched no function says what it looked for.
    pub fn searched(&self) -> Unnamed {
        match self {
            WholeBody::Json => Unnamed::AlsoJson,
            WholeBody::Text(_) => Unnamed::Only("text"),
            WholeBody::Xml(_) => Unnamed::Only("xml"),
            WholeBody::Bytes(_) => Unnamed::Only("bytea"),
        }
    }

    /// The argument as text, cast by PostgreSQL to the parameter's type (`\x…` for bytea).
    pub fn argument(&self, json: &Value) -> String {
        match self {
            WholeBody::Json => json.to_string(),
            WholeBody::Text(text) | WholeBody::Xml(text) => text.clone(),
            WholeBody::Bytes(bytes) => bytes.iter().fold(String::from("\\x"), |mut hex, b| {
                hex.push_str(&format!("{b:02x}"));
                hex
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Json,
    Csv,
    Form,
    Text,
    Xml,
    Bytes,
}

fn format(content_type: Option<&str>) -> Format {
    let media = content_type.and_then(|v| v.split(';').next()).map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("text/csv") => Format::Csv,
        Some("application/x-www-form-urlencoded") => Format::Form,
        Some("text/plain") => Format::Text,
        Some("text/xml") => Format::Xml,
        Some("application/octet-stream") => Format::Bytes,
        _ => Format::Json,
    }
}

/// The body's bytes and format, within the size limit.
async fn read(request: Request, state: &Arc<AppState>) -> Result<(Format, Bytes), ApiError> {
    let format = format(request.headers().get("content-type").and_then(|v| v.to_str().ok()));
    let limit = state.config.max_body_bytes;
    match Bytes::from_request(request, state).await {
        Ok(bytes) => Ok((format, bytes)),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::PayloadTooLarge(limit)),
        Err(e) => Err(ApiError::InvalidBody(e.body_text())),
    }
}

impl FromRequest<Arc<AppState>> for Payload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (format, bytes) = read(request, state).await?;
        decode(format, &bytes).map(Payload)
    }
}

impl FromRequest<Arc<AppState>> for CallBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (format, bytes) = read(request, state).await?;
        let text =
            || String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::InvalidBody("The body is not UTF-8".into()));
        let whole = match format {
            Format::Json => Some(WholeBody::Json),
            Format::Csv | Format::Form => None,
            Format::Text => Some(WholeBody::Text(text()?)),
            Format::Xml => Some(WholeBody::Xml(text()?)),
            Format::Bytes => Some(WholeBody::Bytes(bytes.to_vec())),
        };
        let value = match whole {
            Some(WholeBody::Json) | None => decode(format, &bytes)?,
            Some(_) => Value::Null,
        };
        let form = (format == Format::Form).then(|| form_pairs(&bytes));
        Ok(CallBody { value, whole, form })
    }
}

/// A table write's body: JSON, CSV or a form; a body of another type is read as JSON (and
/// refused when it is not).
fn decode(format: Format, bytes: &[u8]) -> Result<Value, ApiError> {
    match format {
        Format::Json | Format::Text | Format::Xml | Format::Bytes => json(bytes),
        Format::Csv => csv(bytes),
        Format::Form => Ok(form(bytes)),
    }
}

/// PostgREST's refusal of a body that is not JSON (or none where a table write needs one).
pub const INVALID_JSON: &str = "Empty or invalid json";

/// PostgREST's refusal of CSV lines of different lengths.
const UNEQUAL_LINES: &str = "All lines must have same number of fields";

/// JSON; an empty body is `null` (a function call reads it as no arguments, a table write
/// refuses it).
fn json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::InvalidBody(INVALID_JSON.into()))
}

/// A form is one object of text values, as PostgREST reads it (the last of a repeated key).
fn form(bytes: &[u8]) -> Value {
    Value::Object(form_pairs(bytes).into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// CSV as PostgREST reads it: a header line of column names, then rows with as many fields,
/// each an array element of an object keyed by the header; every value is a string (cast by
/// PostgreSQL to its column's type), except the unquoted or quoted text `NULL`, which is null.
/// An empty field is an empty string.
fn csv(bytes: &[u8]) -> Result<Value, ApiError> {
    let bad = |e: csv::Error| {
        let line = |p: Option<&csv::Position>| p.map_or(String::new(), |p| format!("line {}: ", p.line()));
        let why = match e.kind() {
            // PostgREST's words.
            csv::ErrorKind::UnequalLengths { .. } => return ApiError::InvalidBody(UNEQUAL_LINES.into()),
            csv::ErrorKind::Utf8 { pos, .. } => format!("{}not UTF-8", line(pos.as_ref())),
            _ => e.to_string(),
        };
        ApiError::InvalidBody(format!("Invalid CSV body: {why}"))
    };
    // The reader would take an unclosed quote to run to the end of the body; quotes come in
    // pairs (`""` inside a quoted field too), so an odd number means one was never closed.
    if bytes.iter().filter(|b| **b == b'"').count() % 2 == 1 {
        return Err(ApiError::InvalidBody("Invalid CSV body: a quoted field is not closed".into()));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let names: Vec<String> = reader.headers().map_err(bad)?.iter().map(str::to_string).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ApiError::InvalidBody(format!("Invalid CSV body: the header names \"{name}\" twice")));
        }
    }
    let mut rows = vec![];
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let value = |field: &str| if field == "NULL" { Value::Null } else { Value::String(field.to_string()) };
        rows.push(Value::Object(names.iter().cloned().zip(record.iter().map(value)).collect()));
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: &[u8]) -> String {
        match csv(body) {
            Err(ApiError::InvalidBody(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_like_postgrest() {
        let rows = csv(b"name,qty,note\napple,3,NULL\n\"pear, green\",5,\n\"a \"\"b\"\"\",,\"NULL\"\r\n").unwrap();
        assert_eq!(
            rows,
            json!([
                {"name": "apple", "qty": "3", "note": null},
                {"name": "pear, green", "qty": "5", "note": ""},
                {"name": "a \"b\"", "qty": "", "note": null}
            ])
        );
        assert_eq!(csv(b"").unwrap(), json!([]));
        assert_eq!(csv(b"name\n").unwrap(), json!([]));
    }

    #[test]
    fn bad_csv_is_named() {
        assert_eq!(message(b"a,b\n1,2\n3\n"), "All lines must have same number of fields");
        assert_eq!(message(b"a,a\n1,2\n"), "Invalid CSV body: the header names \"a\" twice");
        assert_eq!(message(b"a\n\xff\n"), "Invalid CSV body: line 2: not UTF-8");
        assert_eq!(message(b"a\n\"open\n"), "Invalid CSV body: a quoted field is not closed");
    }

    #[test]
    fn formats_by_content_type() {
        assert_eq!(format(Some("text/csv")), Format::Csv);
        assert_eq!(format(Some("Text/CSV; charset=utf-8")), Format::Csv);
        assert_eq!(format(Some("application/x-www-form-urlencoded")), Format::Form);
        assert_eq!(format(Some("application/json")), Format::Json);
        assert_eq!(format(None), Format::Json);
    }

    #[test]
    fn forms_are_objects_of_text() {
        assert_eq!(form(b"name=Pear+green&qty=5&note=a%26b"), json!({"name": "Pear green", "qty": "5", "note": "a&b"}));
        assert_eq!(form(b""), json!({}));
    }

    #[test]
    fn empty_json_is_null_and_bad_json_is_refused_in_postgrest_words() {
        assert_eq!(json(b"  \n").unwrap(), Value::Null);
        assert!(matches!(json(b"{"), Err(ApiError::InvalidBody(m)) if m == INVALID_JSON));
    }
}
