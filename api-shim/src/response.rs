//! Statement rows to HTTP: status, `Content-Range`, content type, and the body PostgreSQL
//! built. Rust never looks inside the body.
use crate::error::ApiError;
use crate::plan_types::Total;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use tokio_postgres::Row;

pub const JSON: &str = "application/json; charset=utf-8";
pub const OBJECT: &str = "application/vnd.pgrst.object+json; charset=utf-8";
pub const CSV: &str = "text/csv; charset=utf-8";

/// What every statement returns: `total` (when counted), `page` (rows in this response) and
/// `body` (the JSON text, absent when none was asked for).
pub struct Outcome {
    pub total: Option<i64>,
    pub page: i64,
    pub body: Option<String>,
    /// What the statement set `response.headers` and `response.status` to.
    pub overrides: Overrides,
    /// How many rows a merging upsert inserted (not updated).
    pub inserted: Option<i64>,
}

/// PostgREST's `response.headers` (`[{"Name": "value"}, ...]`) and `response.status`, which a
/// function or trigger sets to shape the answer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    headers: Option<String>,
    status: Option<String>,
}

impl Outcome {
    pub fn from_rows(rows: &[Row]) -> Result<Outcome, ApiError> {
        let row = rows.first().ok_or_else(|| ApiError::Internal("the statement returned no row".into()))?;
        let overrides = Overrides {
            headers: row.try_get("response_headers").ok().flatten(),
            status: row.try_get("response_status").ok().flatten(),
        };
        let inserted = row.try_get("inserted").ok().flatten();
        Ok(Outcome { total: row.get("total"), page: row.get("page"), body: row.get("body"), overrides, inserted })
    }
}

impl Overrides {
    /// Applies them to the answer: the status replaces it, each header is added (a header
    /// of the same name replaced). Malformed values are the function's bug: 500 PGRST111/112.
    pub fn apply(&self, response: &mut Response) -> Result<(), ApiError> {
        if let Some(headers) = &self.headers {
            for (name, value) in parse_headers(headers).ok_or(ApiError::InvalidResponseHeaders)? {
                response.headers_mut().insert(name, value);
            }
        }
        if let Some(status) = &self.status {
            let code = status.trim().parse::<u16>().ok().and_then(|c| StatusCode::from_u16(c).ok());
            *response.status_mut() = code.ok_or(ApiError::InvalidResponseStatus)?;
        }
        Ok(())
    }
}

fn parse_headers(json: &str) -> Option<Vec<(axum::http::HeaderName, HeaderValue)>> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(json).ok()?;
    let mut headers = vec![];
    for item in items {
        let pairs: [(String, serde_json::Value); 1] = item.into_iter().collect::<Vec<_>>().try_into().ok()?;
        let [(name, serde_json::Value::String(value))] = pairs else { return None };
        headers.push((axum::http::HeaderName::try_from(name).ok()?, HeaderValue::from_str(&value).ok()?));
    }
    Some(headers)
}

/// What the statement's rows must be for its transaction to commit; otherwise it is rolled
/// back and the refusal is the answer (PostgREST does the same).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expectation {
    /// `Accept: application/vnd.pgrst.object+json`: exactly one row.
    pub singular: bool,
    /// `Prefer: handling=strict, max-affected=n`: at most n rows.
    pub max_affected: Option<u64>,
}

impl Expectation {
    pub fn verdict(&self, rows: &[Row]) -> Result<(), ApiError> {
        let page = Outcome::from_rows(rows)?.page;
        if self.singular && page != 1 {
            return Err(ApiError::NotSingular(page));
        }
        match self.max_affected {
            Some(n) if page > n as i64 => Err(ApiError::MaxAffectedExceeded(page)),
            _ => Ok(()),
        }
    }

    /// The check `tx::run` applies before COMMIT, when there is anything to check.
    pub fn check(self) -> Option<crate::tx::RowCheck> {
        let anything = self.singular || self.max_affected.is_some();
        anything.then(|| Box::new(move |rows: &[Row]| self.verdict(rows)) as crate::tx::RowCheck)
    }
}

/// The planner's row estimate in an `EXPLAIN (FORMAT JSON)`: its top node's `Plan Rows`.
pub fn plan_rows(plan: &serde_json::Value) -> Option<i64> {
    plan.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64().map(|rows| rows.round() as i64)
}

/// The total a read reports, by PostgREST's rules: `exact` counts; `planned` is the estimate;
/// `estimated` counts up to the row ceiling and, past it (or with no ceiling), reports the
/// larger of the count and the estimate.
pub fn total(count: Option<Total>, counted: Option<i64>, planned: Option<i64>) -> Option<i64> {
    match count? {
        Total::Exact => counted,
        Total::Planned => planned,
        Total::Estimated { max_rows } => match (counted, max_rows) {
            (Some(n), Some(max)) if n <= max as i64 => Some(n),
            (n, _) => n.max(planned),
        },
    }
}

/// `first-last/total`, PostgREST's `Content-Range` (`*` for what is not known).
pub fn content_range(offset: u64, page: i64, total: Option<i64>) -> String {
    let total = total.map_or("*".to_string(), |t| t.to_string());
    if page <= 0 {
        return format!("*/{total}");
    }
    format!("{offset}-{}/{total}", offset + page as u64 - 1)
}

/// No body and so no `Content-Type` (a 204, or a write that returns nothing).
pub fn empty(status: StatusCode, range: Option<String>) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    if let Some(range) = range {
        response.headers_mut().insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).expect("digits, - and /"));
    }
    response
}

/// What every REST answer gets last: `Preference-Applied`, `Content-Profile`, then what the
/// statement set in `response.headers` / `response.status`.
pub fn finish(
    response: &mut Response,
    applied: Option<String>,
    profile: Option<String>,
    overrides: &Overrides,
) -> Result<(), ApiError> {
    prefer_applied(response, applied);
    content_profile(response, profile);
    overrides.apply(response)
}

/// `Content-Profile` beside a body's `Content-Type` (PostgREST's answer to a negotiated schema).
pub fn content_profile(response: &mut Response, profile: Option<String>) {
    let has_body = response.headers().contains_key(header::CONTENT_TYPE);
    if let Some(value) = profile.filter(|_| has_body).and_then(|p| HeaderValue::from_str(&p).ok()) {
        response.headers_mut().insert("content-profile", value);
    }
}

/// `Preference-Applied`, when the request honoured any preference.
fn prefer_applied(response: &mut Response, applied: Option<String>) {
    if let Some(value) = applied.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("preference-applied", value);
    }
}

/// An answer with a body; `None`: a `HEAD`'s, which has no body and, as PostgREST's, no
/// `Content-Length` (the body's length is left unknown, so none is derived from it).
pub fn build(status: StatusCode, content_type: &str, range: Option<String>, body: Option<String>) -> Response {
    let body = match body {
        Some(body) => Body::from(body),
        None => Body::from_stream(futures_util::stream::empty::<Result<String, std::convert::Infallible>>()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).expect("a content type"));
    if let Some(range) = range {
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).expect("digits, - and /"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::content_range;

    #[test]
    fn totals_like_postgrest() {
        use super::{total, Total};
        assert_eq!(total(None, None, None), None);
        assert_eq!(total(Some(Total::Exact), Some(7), None), Some(7));
        assert_eq!(total(Some(Total::Planned), None, Some(900)), Some(900));
        let estimated = Some(Total::Estimated { max_rows: Some(100) });
        assert_eq!(total(estimated, Some(100), Some(5000)), Some(100), "at the ceiling: counted");
        assert_eq!(total(estimated, Some(101), Some(5000)), Some(5000), "past it: the estimate");
        assert_eq!(total(estimated, Some(101), Some(50)), Some(101), "never below what was counted");
        assert_eq!(total(Some(Total::Estimated { max_rows: None }), Some(3), Some(9)), Some(9));
    }

    #[test]
    fn plan_rows_of_explain_json() {
        let plan = serde_json::json!([{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 1234, "Plans": []}}]);
        assert_eq!(super::plan_rows(&plan), Some(1234));
        assert_eq!(super::plan_rows(&serde_json::json!([{"Plan": {}}])), None);
    }

    #[test]
    fn content_range_like_postgrest() {
        assert_eq!(content_range(0, 10, None), "0-9/*");
        assert_eq!(content_range(20, 5, Some(25)), "20-24/25");
        assert_eq!(content_range(0, 0, Some(0)), "*/0");
        assert_eq!(content_range(40, 0, None), "*/*");
    }
}
