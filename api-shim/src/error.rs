//! One error type for the whole request path. Each variant knows its HTTP status and
//! PostgREST code; a database error is mapped by SQLSTATE as PostgREST does (`db_error.rs`).
//! Server-side failures get a generic body: the cause is logged.
use crate::db_error;
use crate::query_grammar::GrammarError;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// One of the relationships an ambiguous embed could mean, in PostgREST's words.
#[derive(Debug)]
pub struct RelationshipChoice {
    pub cardinality: &'static str,
    /// `fk using parent(cols) and child(cols)`, or `junction using fk1(cols) and fk2(cols)`.
    pub relationship: String,
    /// `parent with child`.
    pub embedding: String,
    /// What to write instead: `child!fk` or `child!junction`.
    pub hint: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// The query string does not parse.
    Grammar(GrammarError),
    /// `Accept-Profile` / `Content-Profile` names a schema that is not exposed.
    UnacceptableSchema { schema: String, exposed: Vec<String> },
    /// No table or view of that name in the exposed schema; `perhaps` the one meant.
    UnknownRelation { schema: String, name: String, perhaps: Option<String> },
    /// Several overloads take these arguments (each as `schema.name(arg => type, ...)`).
    AmbiguousFunction(Vec<String>),
    /// No function of that name takes these arguments; `perhaps` the one meant (a name, or
    /// the name and parameters of an overload).
    /// `unnamed`: the type of the one unnamed parameter that could also have taken the body.
    UnknownFunction { schema: String, name: String, args: Vec<String>, unnamed: Unnamed, perhaps: Option<String> },
    /// A column the relation does not have, in a body or `columns=` (PostgREST's PGRST204).
    UnknownColumn { relation: String, column: String },
    /// A column the relation does not have, in `select`, a filter or `order` (PostgreSQL's
    /// 42703, which PostgREST passes on).
    UndefinedColumn { relation: String, column: String },
    /// `select=rel!hint(...)` names no relationship of the parent (searched in `schema`);
    /// `perhaps` a relation name meant instead: (meant, written).
    NoRelationship {
        parent: String,
        name: String,
        hint: Option<String>,
        schema: String,
        perhaps: Option<Box<(String, String)>>,
    },
    /// Several relationships could embed it: a hint (`rel!fk_name(...)`) must choose.
    AmbiguousRelationship { parent: String, name: String, choices: Vec<RelationshipChoice> },
    /// `order=rel(col)` on a to-many embedded resource: there is no one value to order by.
    RelatedOrderNotToOne { parent: String, name: String },
    /// A filter, order or limit on a path that is not embedded in `select`: its first step
    /// that is not.
    NotEmbedded(String),
    /// A body that is not the JSON the request needs.
    InvalidBody(String),
    /// `Accept: application/vnd.pgrst.object+json` and not exactly one row.
    NotSingular(i64),
    /// `Prefer: handling=strict, max-affected=n` and the statement touched (or the function
    /// returned) this many rows, more than n.
    MaxAffectedExceeded(i64),
    /// `max-affected` with `handling=strict` on a function that returns one value or one row:
    /// there is nothing to count.
    MaxAffectedNeedsSet,
    /// TENANCY_SAFE_UPDATES and a PATCH or DELETE (the method) without any filter.
    UnfilteredWrite(String),
    /// `select` asks for an aggregate and PGRST_DB_AGGREGATES_ENABLED is off.
    AggregatesDisabled,
    /// `Accept` names no media type the server answers with.
    UnacceptableMedia(String),
    /// `Prefer: handling=strict` with preferences the server does not know or honour.
    InvalidPreferences(String),
    /// A range no rows can satisfy (why, in PostgREST's words); with the total when it was
    /// counted (`Content-Range: */total`).
    RangeNotSatisfiable { details: String, total: Option<i64> },
    /// PUT's filters must be exactly `eq` on every primary key column.
    InvalidPut,
    /// PUT replaces one row: `limit` and `offset` make no sense on it.
    PutLimit,
    /// PUT's body disagrees with the primary key its URL names.
    PutKeyMismatch,
    /// The path names nothing this server serves (more than one segment, outside `/rpc/`).
    UnknownPath,
    /// `PUT`, `PATCH` or `DELETE` of `/rpc/<function>`.
    RpcMethod(String),
    /// The path exists but does not take this method.
    UnsupportedMethod(String),
    /// The bearer token cannot be trusted or used (PostgREST's PGRST30x).
    Jwt(JwtError),
    /// No token and no anonymous role configured.
    AnonymousDisabled,
    /// A token whose role acts for a tenant names none (`TENANCY_TENANTLESS_ROLES` lists the
    /// roles that need none): refused rather than run with no rows visible.
    MissingTenantClaim { claim: String, needed_by: String },
    /// A tenancy claim that is not of its form (`tenant_id` a UUID, `tenant_role` strings).
    MalformedClaim { claim: String, expected: &'static str },
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
    /// A function set `response.headers` to something that is not `[{"Name": "value"}, ...]`.
    InvalidResponseHeaders,
    /// A function set `response.status` to something that is not an HTTP status.
    InvalidResponseStatus,
    /// A bug or a failure we did not foresee.
    Internal(String),
}

/// Which single unnamed parameter a call that matched no function was also looked up by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unnamed {
    /// A GET, or a CSV or form body: none; only the argument names.
    No,
    /// A JSON body: also a `json`/`jsonb` parameter taking it whole.
    AlsoJson,
    /// A `text/plain`, `text/xml` or `application/octet-stream` body: only such a parameter
    /// (`text`, `xml`, `bytea`).
    Only(&'static str),
}

/// Why a bearer token was refused, with PostgREST's codes and messages (clients and
/// middleware match on them): PGRST300 the server has no key, PGRST301 the token cannot be
/// decoded or verified, PGRST303 its claims are not valid now or here.
#[derive(Debug, Clone, PartialEq)]
pub enum JwtError {
    /// A token came and the server has no PGRST_JWT_SECRET to check it with.
    SecretMissing,
    /// `Authorization` with another scheme than `Bearer` (PostgREST would ignore it and go on
    /// anonymously; a client that sent credentials is told they were not used).
    NotBearer,
    /// `Authorization: Bearer` and nothing after it.
    Empty,
    /// Not three dot-separated parts: the number of parts.
    Parts(usize),
    /// A part that is not base64url, or a header that is not a JSON object naming an `alg`.
    Undecodable,
    /// An `alg` the key does not take (`none` included); why, for `details`.
    BadAlgorithm(String),
    /// No key for the token (its `kid`), or a signature no key verifies; why, for `details`.
    NoKey(String),
    Expired,
    NotYetValid,
    IssuedInFuture,
    NotInAudience,
    /// `exp`, `nbf` or `iat` present but not a number.
    NotNumber(&'static str),
    AudienceNotStrings,
    /// The payload is not a JSON object.
    ClaimsNotObject,
}

impl JwtError {
    fn code(&self) -> &'static str {
        match self {
            JwtError::SecretMissing => "PGRST300",
            JwtError::NotBearer
            | JwtError::Empty
            | JwtError::Parts(_)
            | JwtError::Undecodable
            | JwtError::BadAlgorithm(_)
            | JwtError::NoKey(_) => "PGRST301",
            _ => "PGRST303",
        }
    }

    fn message(&self) -> String {
        match self {
            JwtError::SecretMissing => "Server lacks JWT secret".into(),
            JwtError::NotBearer => "The Authorization header must be \"Bearer <token>\"".into(),
            JwtError::Empty => "Empty JWT is sent in Authorization header".into(),
            JwtError::Parts(n) => format!("Expected 3 parts in JWT; got {n}"),
            JwtError::Undecodable => "JWT cryptographic operation failed".into(),
            JwtError::BadAlgorithm(_) => "Wrong or unsupported encoding algorithm".into(),
            JwtError::NoKey(_) => "No suitable key or wrong key type".into(),
            JwtError::Expired => "JWT expired".into(),
            JwtError::NotYetValid => "JWT not yet valid".into(),
            JwtError::IssuedInFuture => "JWT issued at future".into(),
            JwtError::NotInAudience => "JWT not in audience".into(),
            JwtError::NotNumber(claim) => format!("The JWT '{claim}' claim must be a number"),
            JwtError::AudienceNotStrings => "The JWT 'aud' claim must be a string or an array of strings".into(),
            JwtError::ClaimsNotObject => "Parsing claims failed".into(),
        }
    }

    fn details(&self) -> Option<String> {
        match self {
            JwtError::BadAlgorithm(why) | JwtError::NoKey(why) => Some(why.clone()),
            _ => None,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            JwtError::SecretMissing => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Whether the request carried a token: PostgREST answers 401 instead of 403 to anonymous
/// requests that lack privileges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Authenticated {
    Yes,
    No,
}

/// What an error looks like to the client, and what only the log gets.
pub(crate) struct Parts {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Text, or structured JSON where the database's DETAIL is a JSON report (`TN042`).
    pub details: Option<Value>,
    pub hint: Option<String>,
    /// Fields beside PostgREST's (`module`, `upgrade`, `permission`).
    pub extra: Map<String, Value>,
    /// What the operator needs and the caller must not see (the database's hint for a
    /// suspended tenant): it goes to the request's log line.
    pub operator_note: Option<String>,
    /// Headers the answer carries (a function's `RAISE SQLSTATE 'PGRST'`).
    pub headers: Vec<(String, String)>,
}

pub(crate) fn parts(status: StatusCode, code: &str, message: impl Into<String>) -> Parts {
    Parts {
        status,
        code: code.into(),
        message: message.into(),
        details: None,
        hint: None,
        extra: Map::new(),
        operator_note: None,
        headers: vec![],
    }
}

impl Parts {
    pub(crate) fn details(mut self, details: impl Into<String>) -> Parts {
        self.details = Some(Value::String(details.into()));
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Parts {
        self.hint = Some(hint.into());
        self
    }
}

/// `WWW-Authenticate` for a refused token (RFC 6750): the reason as `error_description`, a
/// quoted string, with the characters a header may not carry left out.
fn invalid_token_challenge(message: &str) -> HeaderValue {
    let description: String = message
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    HeaderValue::from_str(&format!("Bearer error=\"invalid_token\", error_description=\"{description}\""))
        .expect("printable ASCII")
}

impl ApiError {
    fn parts(&self) -> Parts {
        match self {
            ApiError::Grammar(e) => {
                let p = parts(StatusCode::BAD_REQUEST, e.code(), e.message());
                match e.details() {
                    Some(d) => p.details(d),
                    None => p,
                }
            }
            ApiError::UnacceptableSchema { schema, exposed } => {
                parts(StatusCode::NOT_ACCEPTABLE, "PGRST106", format!("Invalid schema: {schema}"))
                    .hint(format!("Only the following schemas are exposed: {}", exposed.join(", ")))
            }
            ApiError::UnknownRelation { schema, name, perhaps } => {
                let p = parts(
                    StatusCode::NOT_FOUND,
                    "PGRST205",
                    format!("Could not find the table '{schema}.{name}' in the schema cache"),
                );
                match perhaps {
                    Some(table) => p.hint(format!("Perhaps you meant the table '{schema}.{table}'")),
                    None => p,
                }
            }
            ApiError::UnknownFunction { schema, name, args, unnamed, perhaps } => {
                let (listed, searched) = match (unnamed, args.as_slice()) {
                    (Unnamed::Only(kind), _) => (String::new(), format!(" with a single unnamed {kind} parameter")),
                    (_, []) => (" without parameters".to_string(), " without parameters".to_string()),
                    (_, [one]) => (format!("({one})"), format!(" with parameter {one}")),
                    (_, many) => (format!("({})", many.join(", ")), format!(" with parameters {}", many.join(", "))),
                };
                let also = if *unnamed == Unnamed::AlsoJson { " or with a single unnamed json/jsonb parameter" } else { "" };
                let p = parts(StatusCode::NOT_FOUND, "PGRST202", format!("Could not find the function {schema}.{name}{listed} in the schema cache"))
                    .details(format!(
                        "Searched for the function {schema}.{name}{searched}{also}, but no matches were found in the schema cache."
                    ));
                match perhaps {
                    Some(function) => p.hint(format!("Perhaps you meant to call the function {schema}.{function}")),
                    None => p,
                }
            }
            ApiError::AmbiguousFunction(candidates) => parts(
                StatusCode::MULTIPLE_CHOICES,
                "PGRST203",
                format!("Could not choose the best candidate function between: {}", candidates.join(", ")),
            )
            .hint("Try renaming the parameters or the function itself in the database so function overloading can be resolved"),
            ApiError::UnknownColumn { relation, column } => parts(
                StatusCode::BAD_REQUEST,
                "PGRST204",
                format!("Could not find the '{column}' column of '{relation}' in the schema cache"),
            ),
            ApiError::InvalidResponseHeaders => parts(
                StatusCode::INTERNAL_SERVER_ERROR,
                "PGRST111",
                "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            ),
            ApiError::InvalidResponseStatus => {
                parts(StatusCode::INTERNAL_SERVER_ERROR, "PGRST112", "response.status guc must be a valid status code")
            }
            ApiError::UndefinedColumn { relation, column } => {
                parts(StatusCode::BAD_REQUEST, "42703", format!("column {relation}.{column} does not exist"))
            }
            ApiError::NoRelationship { parent, name, hint, schema, perhaps } => {
                let using = hint.as_ref().map(|h| format!("' using the hint '{h}")).unwrap_or_default();
                let p = parts(
                    StatusCode::BAD_REQUEST,
                    "PGRST200",
                    format!("Could not find a relationship between '{parent}' and '{name}' in the schema cache"),
                )
                .details(format!(
                    "Searched for a foreign key relationship between '{parent}' and '{name}{using}' in the schema \
                     '{schema}', but no matches were found."
                ));
                match perhaps {
                    Some(names) => p.hint(format!("Perhaps you meant '{}' instead of '{}'.", names.0, names.1)),
                    None => p,
                }
            }
            ApiError::AmbiguousRelationship { parent, name, choices } => {
                let mut p = parts(
                    StatusCode::MULTIPLE_CHOICES,
                    "PGRST201",
                    format!("Could not embed because more than one relationship was found for '{parent}' and '{name}'"),
                );
                p.details = Some(Value::Array(
                    choices
                        .iter()
                        .map(|c| json!({"cardinality": c.cardinality, "relationship": c.relationship, "embedding": c.embedding}))
                        .collect(),
                ));
                let hints: Vec<String> = choices.iter().map(|c| format!("'{}'", c.hint)).collect();
                p.hint(format!(
                    "Try changing '{name}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                    hints.join(", ")
                ))
            }
            ApiError::RelatedOrderNotToOne { parent, name } => {
                parts(StatusCode::BAD_REQUEST, "PGRST118", format!("A related order on '{name}' is not possible"))
                    .details(format!("'{parent}' and '{name}' do not form a many-to-one or one-to-one relationship"))
            }
            ApiError::NotEmbedded(name) => parts(
                StatusCode::BAD_REQUEST,
                "PGRST108",
                format!("'{name}' is not an embedded resource in this request"),
            )
            .hint(format!("Verify that '{name}' is included in the 'select' query parameter.")),
            ApiError::InvalidBody(why) => parts(StatusCode::BAD_REQUEST, "PGRST102", why.clone()),
            ApiError::NotSingular(rows) => {
                parts(StatusCode::NOT_ACCEPTABLE, "PGRST116", "Cannot coerce the result to a single JSON object")
                    .details(format!("The result contains {rows} rows"))
            }
            ApiError::MaxAffectedExceeded(rows) => {
                parts(StatusCode::BAD_REQUEST, "PGRST124", "Query result exceeds max-affected preference constraint")
                    .details(format!("The query affects {rows} rows"))
            }
            ApiError::MaxAffectedNeedsSet => parts(
                StatusCode::BAD_REQUEST,
                "PGRST128",
                "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
            ),
            ApiError::UnfilteredWrite(method) => parts(
                StatusCode::BAD_REQUEST,
                "TN104",
                format!("{method} without a filter would change every row: this server requires one"),
            )
            .hint("Add a filter (e.g. ?id=eq.…); TENANCY_SAFE_UPDATES is on."),
            ApiError::UnacceptableMedia(accept) => parts(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST107",
                format!("None of these media types are available: {accept}"),
            ),
            ApiError::AggregatesDisabled => {
                parts(StatusCode::BAD_REQUEST, "PGRST123", "Use of aggregate functions is not allowed")
            }
            ApiError::InvalidPreferences(why) => parts(StatusCode::BAD_REQUEST, "PGRST122", why.clone()),
            ApiError::RangeNotSatisfiable { details, .. } => {
                parts(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", "Requested range not satisfiable")
                    .details(details.clone())
            }
            ApiError::PutLimit => parts(
                StatusCode::BAD_REQUEST,
                "PGRST114",
                "limit/offset querystring parameters are not allowed for PUT",
            ),
            ApiError::InvalidPut => parts(
                StatusCode::METHOD_NOT_ALLOWED,
                "PGRST105",
                "Filters must include all and only primary key columns with 'eq' operators",
            ),
            ApiError::PutKeyMismatch => {
                parts(StatusCode::BAD_REQUEST, "PGRST115", "Payload values do not match URL in primary key column(s)")
            }
            ApiError::UnknownPath => parts(StatusCode::NOT_FOUND, "PGRST125", "Invalid path specified in request URL"),
            ApiError::RpcMethod(method) => {
                parts(StatusCode::METHOD_NOT_ALLOWED, "PGRST101", format!("Cannot use the {method} method on RPC"))
            }
            ApiError::UnsupportedMethod(method) => {
                parts(StatusCode::METHOD_NOT_ALLOWED, "PGRST117", format!("Unsupported HTTP method: {method}"))
            }
            ApiError::Jwt(e) => {
                let p = parts(e.status(), e.code(), e.message());
                match e.details() {
                    Some(d) => p.details(d),
                    None => p,
                }
            }
            ApiError::AnonymousDisabled => parts(StatusCode::UNAUTHORIZED, "PGRST302", "Anonymous access is disabled"),
            ApiError::MissingTenantClaim { claim, needed_by } => parts(
                StatusCode::UNAUTHORIZED,
                "TN102",
                format!("The token has no \"{claim}\" claim, which {needed_by} needs"),
            )
            .hint(format!("Tokens of tenant roles name their tenant in \"{claim}\".")),
            ApiError::MalformedClaim { claim, expected } => {
                parts(StatusCode::UNAUTHORIZED, "TN103", format!("The token's \"{claim}\" claim must be {expected}"))
            }
            ApiError::TenantMismatch => parts(
                StatusCode::FORBIDDEN,
                "TN101",
                "The tenant named by the request disagrees with the token's tenant",
            )
            .hint("X-Tenant-ID may only repeat the tenant of the token."),
            ApiError::RateLimited(seconds) => {
                parts(StatusCode::TOO_MANY_REQUESTS, "TN429", "Too many requests for this tenant")
                    .hint(format!("Retry after {seconds} s."))
            }
            ApiError::PayloadTooLarge(limit) => parts(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PGRST413",
                format!("The request body is larger than {limit} bytes"),
            ),
            ApiError::Database(db, authenticated) => db_error::response_parts(db, *authenticated),
            ApiError::Unavailable(_) => {
                parts(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", "The database is not available")
            }
            ApiError::Internal(_) => parts(StatusCode::INTERNAL_SERVER_ERROR, "PGRST500", "Internal server error"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().status
    }

    /// `WWW-Authenticate` of a 401: why the token was refused, or (no token, or a role the
    /// database does not know) just the scheme, as PostgREST.
    fn challenge(&self, p: &Parts) -> Option<HeaderValue> {
        match self {
            ApiError::Jwt(_) | ApiError::MissingTenantClaim { .. } | ApiError::MalformedClaim { .. }
                if p.status == StatusCode::UNAUTHORIZED =>
            {
                Some(invalid_token_challenge(&p.message))
            }
            _ if p.status == StatusCode::UNAUTHORIZED => Some(HeaderValue::from_static("Bearer")),
            _ => None,
        }
    }

    fn retry_after(&self, p: &Parts) -> Option<String> {
        match self {
            ApiError::RateLimited(seconds) => Some(seconds.to_string()),
            _ if p.status == StatusCode::SERVICE_UNAVAILABLE => Some("1".into()),
            _ => None,
        }
    }
}

impl From<GrammarError> for ApiError {
    fn from(e: GrammarError) -> Self {
        match e.is_unsatisfiable_range() {
            true => ApiError::RangeNotSatisfiable { details: e.message().to_string(), total: None },
            false => ApiError::Grammar(e),
        }
    }
}

impl ApiError {
    /// PostgREST's error body, `{"code", "message", "details", "hint"}`, exactly; tenancy's
    /// own refusals add what a client acts on (`error`: what happened in a word, the module and
    /// whether an upgrade unlocks it, the permission). REST's answer, and what a real-time join
    /// refused for the same reason replies.
    pub fn body(&self) -> (StatusCode, Value) {
        let mut p = self.parts();
        (p.status, body_of(&mut p))
    }
}

/// The body of these parts (their `extra` fields move into it).
fn body_of(p: &mut Parts) -> Value {
    let mut body = json!({"code": p.code, "message": p.message, "details": p.details, "hint": p.hint});
    let label = match p.code.as_ref() {
        "TN010" => Some("Module not enabled"),
        "TN071" => Some("Permission denied"),
        code if code.starts_with("TN") => p.status.canonical_reason(),
        _ => None,
    };
    let fields = body.as_object_mut().expect("a JSON object");
    if let Some(label) = label {
        fields.insert("error".into(), json!(label));
    }
    fields.extend(std::mem::take(&mut p.extra));
    body
}

/// The request's id is the `X-Request-ID` header, not a body field.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut p = self.parts();
        let body = body_of(&mut p);
        let mut response =
            (p.status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response();
        if let Some(challenge) = self.challenge(&p) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        for (name, value) in &p.headers {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
                response.headers_mut().insert(name, value);
            }
        }
        // PostgREST 13 names the error for proxies and logs (RFC 9209).
        if let Ok(status) = HeaderValue::from_str(&format!("PostgREST; error={}", p.code)) {
            response.headers_mut().insert("proxy-status", status);
        }
        if let ApiError::RangeNotSatisfiable { total: Some(total), .. } = &self {
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, HeaderValue::from_str(&format!("*/{total}")).expect("digits"));
        }
        if let Some(seconds) = self.retry_after(&p) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&seconds).expect("digits"));
        }
        // The cause of a server-side failure, and what only the operator may read, are logged
        // by the request's log line, not sent.
        response.extensions_mut().insert(ErrorCause(format!("{self:?}")));
        if let Some(note) = p.operator_note {
            response.extensions_mut().insert(OperatorNote(note));
        }
        response
    }
}

/// The full error, for the request log.
#[derive(Clone)]
pub struct ErrorCause(pub String);

/// What the database told the operator about a refusal the caller sees in other words.
#[derive(Clone)]
pub struct OperatorNote(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_says_why_in_its_challenge() {
        let challenge = |e: ApiError| {
            let p = e.parts();
            e.challenge(&p).map(|h| h.to_str().unwrap().to_string())
        };
        assert_eq!(
            challenge(ApiError::Jwt(JwtError::Expired)).as_deref(),
            Some("Bearer error=\"invalid_token\", error_description=\"JWT expired\"")
        );
        let missing =
            ApiError::MissingTenantClaim { claim: "tenant_id".into(), needed_by: "its role \"a\"b\n\u{e9}\"".into() };
        assert_eq!(
            challenge(missing).as_deref(),
            Some(
                "Bearer error=\"invalid_token\", error_description=\"The token has no \\\"tenant_id\\\" claim, \
                 which its role \\\"a\\\"b\\\" needs\""
            ),
            "quotes escaped, control and non-ASCII characters left out"
        );
        assert_eq!(challenge(ApiError::AnonymousDisabled).as_deref(), Some("Bearer"));
        assert_eq!(challenge(ApiError::Jwt(JwtError::SecretMissing)), None, "a 500, not the client's token");
        assert_eq!(challenge(ApiError::TenantMismatch), None);
    }

    #[test]
    fn token_errors_carry_postgrests_codes() {
        let code = |e: JwtError| (e.status().as_u16(), e.code(), e.message());
        assert_eq!(code(JwtError::Parts(2)), (401, "PGRST301", "Expected 3 parts in JWT; got 2".into()));
        assert_eq!(code(JwtError::NotYetValid), (401, "PGRST303", "JWT not yet valid".into()));
        assert_eq!(code(JwtError::NotNumber("exp")), (401, "PGRST303", "The JWT 'exp' claim must be a number".into()));
        assert_eq!(code(JwtError::SecretMissing), (500, "PGRST300", "Server lacks JWT secret".into()));
    }
}
