//! Many groups' statements in one read-only transaction on one connection, pipelined: one
//! round trip for all of them instead of a transaction each. Every group's statement runs as
//! that group — the request setup (`tx::setup_sql`: settings, tenant entered, role set) then the
//! statement — inside a savepoint that is rolled back before the next group's: that undoes the
//! role, the settings and the tenant context (the extension unwinds a context with the
//! subtransaction that set it), so each group starts from the connection's own role, as a
//! fresh transaction would.
use crate::tx::RequestSettings;
use deadpool_postgres::Pool;
use futures_util::future::{join, join_all, maybe_done, BoxFuture, MaybeDone};
use futures_util::{FutureExt, TryFutureExt};
use std::pin::Pin;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error, Row};

/// What one group asks: its statement, run as `settings` say.
pub struct GroupQuery {
    pub settings: RequestSettings,
    pub sql: String,
    pub params: Vec<Option<String>>,
}

/// A group's rows, or why its statement (or its setup: a suspended tenant) failed.
pub type Answer = Result<Vec<Row>, Error>;

const OPEN: &str = "BEGIN READ ONLY; SAVEPOINT realtime_group";
const NEXT: &str = "ROLLBACK TO SAVEPOINT realtime_group";

/// Connections the groups of one call are spread over when there are many (each its own
/// transaction, the same way): one backend runs its pipeline on one core, and a large batch's
/// checks are what the latency waits for.
const PIPELINES: usize = 2;
/// A second pipeline only for calls with more groups than this: a connection and a
/// transaction more are not free.
const MIN_PER_PIPELINE: usize = 32;

/// The groups' answers, in their order. A failure before the groups (no connection, BEGIN)
/// fails them all; one group's failure is its own.
pub async fn run(pool: &Pool, setup_sql: &str, queries: Vec<GroupQuery>) -> Result<Vec<Answer>, String> {
    let per_pipeline = queries.len().div_ceil(PIPELINES).max(MIN_PER_PIPELINE);
    let mut parts = Vec::new();
    let mut queries = queries.into_iter().peekable();
    while queries.peek().is_some() {
        let part: Vec<GroupQuery> = queries.by_ref().take(per_pipeline).collect();
        let (pool, setup_sql) = (pool.clone(), setup_sql.to_string());
        // Its own task: a caller that goes away cannot leave the connection inside the transaction.
        parts.push(tokio::spawn(async move { pipelined(&pool, &setup_sql, &part).await }));
    }
    let mut answers = Vec::new();
    for part in join_all(parts).await {
        answers.extend(part.map_err(|e| format!("real-time group task failed: {e}"))??);
    }
    Ok(answers)
}

type Step<'a> = MaybeDone<BoxFuture<'a, Answer>>;

/// Polls a step once: its request goes out now, behind the ones before it.
fn send(step: &mut Step<'_>) {
    let _ = Pin::new(step).now_or_never();
}

fn step<'a, T: Send + 'a>(
    f: impl std::future::Future<Output = Result<T, Error>> + Send + 'a,
    rows: fn(T) -> Vec<Row>,
) -> Step<'a> {
    let mut s = maybe_done(f.map_ok(rows).boxed());
    send(&mut s);
    s
}

/// Where a group's steps are in the pipeline: its setup, its statement (none when it could not
/// be prepared: the error), the rollback to the savepoint.
struct Sent {
    setup: usize,
    statement: Result<usize, Error>,
    next: usize,
}

async fn pipelined(pool: &Pool, setup_sql: &str, queries: &[GroupQuery]) -> Result<Vec<Answer>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let conn: &tokio_postgres::Client = &client;
    let setup_statement = client.prepare_cached(setup_sql).await.map_err(|e| e.to_string())?;
    let setup_params: Vec<_> = queries.iter().map(|q| q.settings.setup_params()).collect();
    let params: Vec<Vec<&(dyn ToSql + Sync)>> =
        queries.iter().map(|q| q.params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()).collect();
    let mut steps: Vec<Step> = Vec::with_capacity(queries.len() * 3 + 1);
    steps.push(step(conn.batch_execute(OPEN), |_| Vec::new()));
    let mut sent = Vec::with_capacity(queries.len());
    for ((q, setup_params), params) in queries.iter().zip(&setup_params).zip(&params) {
        steps.push(step(conn.execute(&setup_statement, setup_params), |_| Vec::new()));
        let setup = steps.len() - 1;
        // A statement is prepared as its group the first time (only the group's role may see
        // its tables), then comes from the connection's cache without a round trip.
        let mut prepare = client.prepare_cached(&q.sql).boxed();
        let prepared = match (&mut prepare).now_or_never() {
            Some(prepared) => prepared,
            // Everything sent before is driven meanwhile: its answers must not stall the connection.
            None => join(join_all(steps.iter_mut()), prepare).await.1,
        };
        let statement = prepared.map(|statement| {
            steps.push(step(async move { conn.query(&statement, params).await }, |rows| rows));
            steps.len() - 1
        });
        steps.push(step(conn.batch_execute(NEXT), |_| Vec::new()));
        sent.push(Sent { setup, statement, next: steps.len() - 1 });
    }
    let (_, ended) = join(join_all(steps.iter_mut()), conn.batch_execute("ROLLBACK")).await;
    ended.map_err(|e| e.to_string())?;
    let mut outputs: Vec<Option<Answer>> = steps.iter_mut().map(|s| Pin::new(s).take_output()).collect();
    let mut output = |i: usize| outputs[i].take().expect("every step was driven to its end");
    output(0).map_err(|e| format!("opening the groups' transaction: {e}"))?;
    let mut answers = Vec::with_capacity(sent.len());
    for s in sent {
        let setup = output(s.setup);
        let statement = s.statement.and_then(&mut output);
        // A group whose savepoint was not rolled back would hand its role to the next: none is trusted.
        output(s.next).map_err(|e| format!("rolling back a group's savepoint: {e}"))?;
        // The setup's failure decides (a suspended tenant), then the statement's.
        answers.push(setup.and(statement));
    }
    Ok(answers)
}
