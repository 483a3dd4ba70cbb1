//! One error type for the whole request path. Each variant knows its HTTP status and
//! PostgREST code; a database error is mapped by SQLSTATE as PostgREST does (`mapSQLtoHTTP`),
//! plus tenancy's own class TN. Server-side failures get a generic body: the cause is logged.
use crate::query_grammar::GrammarError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

#[derive(Debug)]
pub enum ApiError {
    /// The query string does not parse.
    Grammar(GrammarError),
    /// `Accept-Profile` / `Content-Profile` names a schema that is not exposed.
    UnacceptableSchema(String),
    /// No table or view of that name in the exposed schema.
    UnknownRelation { schema: String, name: String },
    /// No function of that name takes these arguments.
    UnknownFunction { schema: String, name: String, args: Vec<String> },
    /// A column the relation does not have.
    UnknownColumn { relation: String, column: String },
    /// `select=rel(...)` names a relation with no foreign key to (or from) the target.
    NoRelationship { parent: String, name: String },
    /// Several foreign keys could embed it: a hint (`rel!fk_name(...)`) must choose.
    AmbiguousRelationship { parent: String, name: String, candidates: Vec<String> },
    /// `...rel(...)` on a to-many relationship: there is no one row to lift columns from.
    SpreadNotToOne { parent: String, name: String },
    /// A filter, order or limit on a path that is not embedded in `select`.
    NotEmbedded(String),
    /// A body that is not the JSON the request needs.
    InvalidBody(String),
    /// `Accept: application/vnd.pgrst.object+json` and not exactly one row.
    NotSingular(i64),
    /// A header we cannot honour (`Range`, `Accept`).
    UnsupportedHeader { status: StatusCode, message: String },
    /// The bearer token is missing where required, malformed, forged or expired.
    Jwt(String),
    /// No token and no anonymous role configured.
    AnonymousDisabled,
    /// The tenant named by `X-Tenant-ID` disagrees with the token's.
    TenantMismatch,
    /// The tenant sent more requests than its rate allows; retry after this many seconds.
    RateLimited(u64),
    /// The request body is larger than allowed.
    PayloadTooLarge(usize),
    /// PostgreSQL refused the statement.
    Database(Box<tokio_postgres::error::DbError>, Authenticated),
    /// PostgreSQL cannot be reached, or no connection is free.
    Unavailable(String),
    /// A bug or a failure we did not foresee.
    Internal(String),
}

/// Whether the request carried a token: PostgREST answers 401 instead of 403 to anonymous
/// requests that lack privileges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Authenticated {
    Yes,
    No,
}

struct Parts {
    status: StatusCode,
    code: String,
    message: String,
    details: Option<String>,
    hint: Option<String>,
    extra: Map<String, Value>,
}

fn parts(status: StatusCode, code: &str, message: impl Into<String>) -> Parts {
    Parts { status, code: code.into(), message: message.into(), details: None, hint: None, extra: Map::new() }
}

/// PostgreSQL's SQLSTATE to an HTTP status: PostgREST's table, then tenancy's class TN.
pub fn status_for_sqlstate(code: &str, authenticated: Authenticated) -> StatusCode {
    let class = &code[..code.len().min(2)];
    match code {
        "42501" if authenticated == Authenticated::No => StatusCode::UNAUTHORIZED,
        "42501" => StatusCode::FORBIDDEN,
        "23503" | "23505" => StatusCode::CONFLICT,
        "25006" => StatusCode::METHOD_NOT_ALLOWED,
        "42883" | "42P01" => StatusCode::NOT_FOUND,
        "42P17" | "P0001" => StatusCode::BAD_REQUEST,
        // statement_timeout: the request asked for more work than the server allows.
        "57014" => StatusCode::GATEWAY_TIMEOUT,
        "TN001" => StatusCode::NOT_FOUND,
        "TN002" | "TN003" | "TN005" | "TN010" | "TN071" => StatusCode::FORBIDDEN,
        "TN025" => StatusCode::CONFLICT,
        "TN004" => StatusCode::UNAUTHORIZED,
        _ => match class {
            "08" | "53" => StatusCode::SERVICE_UNAVAILABLE,
            "0L" | "0P" | "28" => StatusCode::FORBIDDEN,
            "54" => StatusCode::PAYLOAD_TOO_LARGE,
            "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "55" | "57" | "58" | "F0" | "HV" | "P0" | "XX" => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        },
    }
}

impl ApiError {
    fn parts(&self) -> Parts {
        match self {
            ApiError::Grammar(e) => {
                let mut p = parts(StatusCode::BAD_REQUEST, e.code(), e.message());
                p.details = e.details().map(str::to_string);
                p
            }
            ApiError::UnacceptableSchema(schema) => {
                let mut p =
                    parts(StatusCode::NOT_ACCEPTABLE, "PGRST106", "The schema must be one of the exposed schemas");
                p.details = Some(format!("requested schema: {schema}"));
                p
            }
            ApiError::UnknownRelation { schema, name } => {
                let mut p = parts(
                    StatusCode::NOT_FOUND,
                    "PGRST205",
                    format!("Could not find the table '{schema}.{name}' in the schema cache"),
                );
                p.hint = Some(
                    "Check the path and the Accept-Profile header; after a migration the cache reloads by itself."
                        .into(),
                );
                p
            }
            ApiError::UnknownFunction { schema, name, args } => {
                let mut p = parts(
                    StatusCode::NOT_FOUND,
                    "PGRST202",
                    format!("Could not find the function {schema}.{name}({}) in the schema cache", args.join(", ")),
                );
                p.hint = Some("Arguments are matched by name: every required one, and only known ones.".into());
                p
            }
            ApiError::UnknownColumn { relation, column } => parts(
                StatusCode::BAD_REQUEST,
                "PGRST204",
                format!("Could not find the '{column}' column of '{relation}' in the schema cache"),
            ),
            ApiError::NoRelationship { parent, name } => {
                let mut p = parts(
                    StatusCode::BAD_REQUEST,
                    "PGRST200",
                    format!("Could not find a relationship between '{parent}' and '{name}' in the schema cache"),
                );
                p.hint = Some(
                    "Embedding follows foreign keys, or for many-to-many a junction table whose primary key holds \
                     the columns of its foreign keys to both."
                        .into(),
                );
                p
            }
            ApiError::AmbiguousRelationship { parent, name, candidates } => {
                let mut p = parts(
                    StatusCode::MULTIPLE_CHOICES,
                    "PGRST201",
                    format!("Could not embed because more than one relationship was found for '{parent}' and '{name}'"),
                );
                p.details = Some(candidates.join(", "));
                p.hint = Some(format!("Name one: {name}!<foreign key>(...), or {name}!<junction table>(...)"));
                p
            }
            ApiError::SpreadNotToOne { parent, name } => {
                let mut p = parts(
                    StatusCode::BAD_REQUEST,
                    "PGRST119",
                    format!("A spread operation on '{name}' is not possible"),
                );
                p.details =
                    Some(format!("'{parent}' and '{name}' do not form a many-to-one or one-to-one relationship"));
                p
            }
            ApiError::NotEmbedded(path) => parts(
                StatusCode::BAD_REQUEST,
                "PGRST108",
                format!("'{path}' is not an embedded resource in this request"),
            ),
            ApiError::InvalidBody(why) => parts(StatusCode::BAD_REQUEST, "PGRST102", why.clone()),
            ApiError::NotSingular(rows) => {
                let mut p = parts(
                    StatusCode::NOT_ACCEPTABLE,
                    "PGRST116",
                    "JSON object requested, multiple (or no) rows returned",
                );
                p.details = Some(format!("The result contains {rows} rows"));
                p
            }
            ApiError::UnsupportedHeader { status, message } => parts(*status, "PGRST103", message.clone()),
            ApiError::Jwt(why) => parts(StatusCode::UNAUTHORIZED, "PGRST301", why.clone()),
            ApiError::AnonymousDisabled => {
                parts(StatusCode::UNAUTHORIZED, "PGRST302", "Anonymous access is disabled: send a bearer token")
            }
            ApiError::TenantMismatch => {
                let mut p = parts(
                    StatusCode::FORBIDDEN,
                    "TN101",
                    "The tenant named by the request disagrees with the token's tenant",
                );
                p.hint = Some("X-Tenant-ID may only repeat the tenant of the token.".into());
                p
            }
            ApiError::RateLimited(seconds) => {
                let mut p = parts(StatusCode::TOO_MANY_REQUESTS, "TN429", "Too many requests for this tenant");
                p.hint = Some(format!("Retry after {seconds} s."));
                p
            }
            ApiError::PayloadTooLarge(limit) => parts(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PGRST413",
                format!("The request body is larger than {limit} bytes"),
            ),
            ApiError::Database(db, authenticated) => {
                let code = db.code().code();
                let status = status_for_sqlstate(code, *authenticated);
                if code == "57014" {
                    return parts(status, code, "The statement ran longer than the server allows");
                }
                if status.is_server_error() {
                    return parts(status, code, "The database could not complete the request");
                }
                let mut p = parts(status, code, db.message());
                p.details = db.detail().map(str::to_string);
                p.hint = db.hint().map(str::to_string);
                if code == "TN010" {
                    // The extension's DETAIL is "module=<key> upgrade=<bool>" (0.1.0: "module=<key>",
                    // always an upgrade): frontends offer a plan upgrade only where one would help.
                    let field = |name: &str| {
                        db.detail()?.split_whitespace().find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                    };
                    p.extra.insert("module".into(), json!(field("module").unwrap_or_default()));
                    p.extra.insert("upgrade".into(), json!(field("upgrade") != Some("false")));
                }
                if code == "TN071" {
                    // DETAIL "permission=<module>:<action>": which permission the user lacks.
                    let permission = db.detail().and_then(|d| d.strip_prefix("permission=")).unwrap_or_default();
                    p.extra.insert("permission".into(), json!(permission));
                }
                p
            }
            ApiError::Unavailable(_) => {
                parts(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", "The database is not available")
            }
            ApiError::Internal(_) => parts(StatusCode::INTERNAL_SERVER_ERROR, "PGRST500", "Internal server error"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().status
    }
}

impl From<GrammarError> for ApiError {
    fn from(e: GrammarError) -> Self {
        ApiError::Grammar(e)
    }
}

/// An error on its way out: the request's id goes into the body and the `X-Request-ID` header.
pub struct Failure {
    pub error: ApiError,
    pub request_id: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let p = self.error.parts();
        let label = match p.code.as_ref() {
            "TN010" => "Module not enabled".to_string(),
            "TN071" => "Permission denied".to_string(),
            _ => p.status.canonical_reason().unwrap_or("Error").to_string(),
        };
        let mut body = json!({
            "code": p.code,
            "message": p.message,
            "details": p.details,
            "hint": p.hint,
            "error": label,
            "timestamp": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            "requestId": self.request_id,
        });
        body.as_object_mut().expect("a JSON object").extend(p.extra);
        let mut response = (p.status, axum::Json(body)).into_response();
        if p.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let retry_after = match &self.error {
            ApiError::RateLimited(seconds) => Some(seconds.to_string()),
            _ if p.status == StatusCode::SERVICE_UNAVAILABLE => Some("1".into()),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&seconds).expect("digits"));
        }
        // The cause of a server-side failure is logged by the request span, not sent.
        response.extensions_mut().insert(ErrorCause(format!("{:?}", self.error)));
        response
    }
}

/// The full error, for the request log.
#[derive(Clone)]
pub struct ErrorCause(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_like_postgrest() {
        let s = |c| status_for_sqlstate(c, Authenticated::Yes);
        assert_eq!(s("23505"), StatusCode::CONFLICT);
        assert_eq!(s("42501"), StatusCode::FORBIDDEN);
        assert_eq!(status_for_sqlstate("42501", Authenticated::No), StatusCode::UNAUTHORIZED);
        assert_eq!(s("42P01"), StatusCode::NOT_FOUND);
        assert_eq!(s("22P02"), StatusCode::BAD_REQUEST);
        assert_eq!(s("08006"), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(s("XX000"), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(s("TN010"), StatusCode::FORBIDDEN);
        assert_eq!(s("TN071"), StatusCode::FORBIDDEN);
        assert_eq!(s("TN002"), StatusCode::FORBIDDEN);
        assert_eq!(s("TN001"), StatusCode::NOT_FOUND);
        assert_eq!(s("TN040"), StatusCode::BAD_REQUEST);
    }
}
