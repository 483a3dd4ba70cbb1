//! One request, one transaction: BEGIN; the request settings, `tenancy.enter_tenant` and
//! `tenancy.set_user` (while still the service role) and the switch to the request's role, in one statement; the
//! statement; COMMIT (or ROLLBACK). All four are pipelined: one round trip, as PERFORMANCE.md
//! asks. `count=planned` / `estimated` add an `EXPLAIN` behind the statement, and COMMIT then
//! waits for its answer. The work runs in its own task, so a client that goes away cannot leave a
//! connection inside a transaction.
use crate::auth::Identity;
use crate::error::{ApiError, Authenticated};
use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use uuid::Uuid;

/// The request as PostgreSQL sees it (PostgREST's `request.*` settings).
pub struct RequestSettings {
    pub claims: String,
    pub method: String,
    pub path: String,
    pub headers: String,
    /// The `Cookie` header's cookies as a JSON object (`request.cookies`).
    pub cookies: String,
    pub role: String,
    pub tenant: Option<Uuid>,
    pub company: Option<Uuid>,
    pub user: Option<String>,
    pub tenant_roles: Option<Vec<String>>,
    /// `statement_timeout` for the transaction, e.g. `10000` (milliseconds; `0`: none).
    pub statement_timeout: String,
    /// The tenant slug of the request's subdomain: it must be the token's tenant.
    pub subdomain: Option<String>,
    /// `search_path` for the transaction: the request's schema, then `public`, as PostgREST
    /// sets it (functions may name objects of their schema unqualified); none: left as is.
    pub search_path: Option<String>,
}

impl RequestSettings {
    pub fn new(
        identity: &Identity,
        method: &str,
        path: &str,
        headers: String,
        statement_timeout_ms: u64,
        subdomain: Option<String>,
    ) -> Self {
        RequestSettings {
            claims: identity.claims.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            headers,
            cookies: "{}".into(),
            role: identity.role.clone(),
            tenant: identity.tenant,
            company: identity.company,
            user: identity.user.clone(),
            tenant_roles: identity.tenant_roles.clone(),
            statement_timeout: statement_timeout_ms.to_string(),
            subdomain,
            search_path: None,
        }
    }

    /// The parameters of `setup_sql`, in its order.
    pub fn setup_params(&self) -> [&(dyn ToSql + Sync); 13] {
        [
            &self.claims,
            &self.method,
            &self.path,
            &self.headers,
            &self.tenant,
            &self.company,
            &self.role,
            &self.statement_timeout,
            &self.subdomain,
            &self.user,
            &self.tenant_roles,
            &self.search_path,
            &self.cookies,
        ]
    }

    /// The request's cookies, for `request.cookies`.
    pub fn with_cookies(self, cookies: String) -> Self {
        RequestSettings { cookies, ..self }
    }

    /// The request's schema first on the `search_path`, then `public`.
    pub fn in_schema(self, schema: &str) -> Self {
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        RequestSettings { search_path: Some(format!("{quoted}, public")), ..self }
    }
}

/// The statement that prepares a request's transaction; evaluated left to right: the subdomain
/// is checked and the tenant entered before the role changes, and the pre-request function
/// (PGRST_DB_PRE_REQUEST, a name the configuration checked) runs last, as the request's role.
pub fn setup_sql(pre_request: Option<&str>) -> String {
    let pre_request = pre_request.map(|f| format!(", {f}()")).unwrap_or_default();
    format!("{SETUP_SQL}{pre_request}")
}

const SETUP_SQL: &str = "SELECT set_config('request.jwt.claims', $1, true), set_config('request.method', $2, true),
        set_config('request.path', $3, true), set_config('request.headers', $4, true),
        CASE WHEN $5::uuid IS NOT NULL AND $9::text IS NOT NULL THEN tenancy.check_subdomain($5::uuid, $9::text) END,
        CASE WHEN $5::uuid IS NOT NULL THEN tenancy.enter_tenant($5::uuid, $6::uuid) END,
        CASE WHEN $5::uuid IS NOT NULL AND ($10::text IS NOT NULL OR $11::text[] IS NOT NULL)
             THEN tenancy.set_user($10::text, $11::text[]) END,
        set_config('role', $7, true), set_config('statement_timeout', $8, true),
        CASE WHEN $12::text IS NOT NULL THEN set_config('search_path', $12, true) END,
        set_config('request.cookies', $13, true)";

pub enum End {
    Commit,
    Rollback,
}

/// How the request's transaction runs.
pub struct Options {
    pub end: End,
    /// COMMIT only when the rows pass (see `run`); the refusal is the request's answer.
    pub check: Option<RowCheck>,
    /// GET and HEAD: `BEGIN READ ONLY`, so a function called by GET cannot write.
    pub read_only: bool,
    /// An `EXPLAIN (FORMAT JSON)` (and its parameters) to run after the statement, in the same
    /// transaction (the same role, tenant and settings): `count=planned` / `estimated`.
    pub explain: Option<(String, Vec<Option<String>>)>,
    /// Plan the statement without its parameters' values (`Statement::generic_plan`).
    pub generic_plan: bool,
}

/// Whether what the statement returned may be committed (one row for a single object, no
/// more than `max-affected`).
pub type RowCheck = Box<dyn FnOnce(&[Row]) -> Result<(), ApiError> + Send>;

/// What the transaction returned.
pub struct Ran {
    pub rows: Vec<Row>,
    /// The plan `Options::explain` asked for.
    pub plan: Option<serde_json::Value>,
}

#[derive(Debug)]
pub enum TxError {
    Pool(String),
    Db(tokio_postgres::Error),
    /// The rows failed `Options::check`: rolled back.
    Refused(ApiError),
}

impl TxError {
    /// The answer to a request whose transaction failed (`authenticated`: whether a token came,
    /// which decides 401 or 403 for a refused privilege).
    pub fn into_api_error(self, authenticated: Authenticated) -> ApiError {
        match self {
            TxError::Pool(why) => ApiError::Unavailable(why),
            TxError::Refused(refusal) => refusal,
            TxError::Db(e) => match e.as_db_error() {
                Some(db) => ApiError::Database(Box::new(db.clone()), authenticated),
                // No answer from PostgreSQL: the connection broke or the server is gone.
                None => ApiError::Unavailable(e.to_string()),
            },
        }
    }
}

/// Runs `sql` with text parameters in the request's transaction and returns its rows.
/// With `check`, COMMIT waits for the rows and becomes ROLLBACK when they fail it: a request
/// answered with an error (a write that asked for exactly one row and touched two) commits
/// nothing, whatever `Prefer: tx=` says.
pub async fn run(
    pool: &Pool,
    setup_sql: &str,
    settings: RequestSettings,
    sql: String,
    params: Vec<Option<String>>,
    options: Options,
) -> Result<Ran, TxError> {
    let Options { end, check, read_only, explain, generic_plan } = options;
    let pool = pool.clone();
    let setup_sql = setup_sql.to_string();
    tokio::spawn(async move {
        let client = pool.get().await.map_err(|e| TxError::Pool(e.to_string()))?;
        let setup = client.prepare_cached(&setup_sql).await.map_err(TxError::Db)?;
        let setup_params = settings.setup_params();
        let main_params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let (sent, main_sent) = tokio::sync::oneshot::channel::<()>();
        // The statement is prepared inside the transaction the first time (only the request's
        // role may see its tables), then comes from the connection's cache; COMMIT goes out
        // right behind it, in the same flight when the statement was cached.
        let main = async {
            let statement = match client.prepare_cached(&sql).await {
                Ok(statement) => statement,
                Err(e) => {
                    let _ = sent.send(());
                    return Err(e);
                }
            };
            let mut query = std::pin::pin!(client.query(&statement, &main_params));
            let first = futures_util::poll!(query.as_mut());
            let _ = sent.send(());
            match first {
                std::task::Poll::Ready(rows) => rows,
                std::task::Poll::Pending => query.await,
            }
        };
        let end_sql = |end: &End| match end {
            End::Commit => "COMMIT",
            End::Rollback => "ROLLBACK",
        };
        let explained = async {
            let Some((sql, params)) = &explain else { return Ok(None) };
            let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let row = client.query_one(sql.as_str(), &params).await?;
            Ok(Some(row.try_get::<_, serde_json::Value>(0)?))
        };
        let statements = async {
            let begin = match (read_only, generic_plan) {
                (true, _) => "BEGIN READ ONLY",
                // in the same message as BEGIN: no round trip more
                (false, true) => "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan",
                (false, false) => "BEGIN",
            };
            let (begun, set, rows, plan) =
                tokio::join!(client.batch_execute(begin), client.execute(&setup, &setup_params), main, explained);
            let rows = begun.and(set).and(rows)?;
            Ok((rows, plan?))
        };
        let (rows, plan) = match check {
            // The EXPLAIN must reach PostgreSQL before COMMIT: no COMMIT in the same flight.
            None if explain.is_some() => {
                let ran = statements.await;
                let ended = client.batch_execute(end_sql(&end)).await;
                let ran = ran.map_err(TxError::Db)?;
                ended.map_err(TxError::Db)?;
                ran
            }
            None => {
                let ending = async {
                    let _ = main_sent.await;
                    client.batch_execute(end_sql(&end)).await
                };
                let (ran, ended) = tokio::join!(statements, ending);
                let ran = ran.map_err(TxError::Db)?;
                ended.map_err(TxError::Db)?;
                ran
            }
            Some(check) => {
                let ran = statements.await;
                let verdict = match &ran {
                    Ok((rows, _)) => check(rows),
                    Err(_) => Ok(()),
                };
                let end = if ran.is_ok() && verdict.is_ok() { end } else { End::Rollback };
                client.batch_execute(end_sql(&end)).await.map_err(TxError::Db)?;
                let ran = ran.map_err(TxError::Db)?;
                verdict.map_err(TxError::Refused)?;
                ran
            }
        };
        Ok(Ran { rows, plan })
    })
    .await
    .map_err(|e| TxError::Pool(format!("request task failed: {e}")))?
}
