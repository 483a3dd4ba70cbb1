//! The tenant context on Citus workers.
//!
//! A worker backend that reads a shard is a separate backend: the context held in the
//! coordinator's memory does not reach it. Citus forwards `SET LOCAL` commands of a transaction
//! to every worker connection it opens (`citus.propagate_set_commands = 'local'`), so the
//! coordinator sends the context as the setting `tenancy.context`, sealed: an HMAC-SHA256 over
//! the context with a key every node reads from its data directory and no SQL role can read.
//! A worker adopts a sealed context only after checking the seal and the expiry; anybody can
//! `SET tenancy.context`, nobody without the key can make a value a worker accepts.
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The key file, in each node's data directory: the same 32+ bytes on every node.
const KEY_FILE: &str = "tenancy_context.key";
/// How long a sealed context is accepted: longer than any request, short enough that a value
/// seen once is soon worthless.
const LIFETIME_SECS: u64 = 300;
/// Clocks of the nodes may differ this much.
const SKEW_SECS: u64 = 5;

static SEALED: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

thread_local! {
    /// The sealed value this backend made or already adopted in this transaction.
    static KNOWN: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn init() {
    GucRegistry::define_string_guc(
        c"tenancy.context",
        c"The tenant context, sealed by a Citus coordinator for its workers.",
        c"Set by the tenancy extension on the coordinator; a worker accepts only a value sealed with the cluster's key.",
        &SEALED,
        GucContext::Userset,
        GucFlags::NO_SHOW_ALL,
    );
}

/// Forgets the sealed value at the end of a transaction (its `SET LOCAL` ends there too).
pub fn clear() {
    KNOWN.with_borrow_mut(|k| *k = None);
}

impl Sealed {
    pub fn tenant(&self) -> pgrx::Uuid {
        pgrx::Uuid::from_bytes(self.tenant)
    }
    pub fn company(&self) -> Option<pgrx::Uuid> {
        self.company.map(pgrx::Uuid::from_bytes)
    }
}

/// What travels to the workers: the context and its validity.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Sealed {
    tenant: [u8; 16],
    company: Option<[u8; 16]>,
    pub modules: Vec<String>,
    pub user: Option<String>,
    pub roles: Option<Vec<String>>,
    iat: u64,
    exp: u64,
}

fn key() -> Option<&'static [u8]> {
    static KEY: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = unsafe { CStr::from_ptr(pg_sys::DataDir) }.to_str().ok()?;
        let key = std::fs::read(std::path::Path::new(dir).join(KEY_FILE)).ok()?;
        (key.len() >= 32).then_some(key)
    })
    .as_deref()
}

fn citus_loaded() -> bool {
    !unsafe { pg_sys::GetConfigOption(c"citus.version".as_ptr(), true, false) }.is_null()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(payload.as_bytes());
    mac
}

fn seal_with(key: &[u8], context: &Sealed) -> String {
    let payload = B64.encode(serde_json::to_vec(context).expect("a context serialises"));
    let tag = B64.encode(mac(key, &payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn open_with(key: &[u8], value: &str, at: u64) -> Result<Sealed, &'static str> {
    let (payload, tag) = value.split_once('.').ok_or("it is not a sealed context")?;
    let tag = B64.decode(tag).map_err(|_| "its seal is not base64")?;
    mac(key, payload).verify_slice(&tag).map_err(|_| "its seal does not match")?;
    let json = B64.decode(payload).map_err(|_| "its payload is not base64")?;
    let context: Sealed = serde_json::from_slice(&json).map_err(|_| "its payload is not a context")?;
    if context.exp < at || context.iat > at + SKEW_SECS {
        return Err("it has expired");
    }
    Ok(context)
}

/// On a Citus node with the key, sends the context to the workers of this transaction as a
/// sealed `SET LOCAL tenancy.context`. Elsewhere (no Citus, no key) it does nothing: a worker
/// then sees no context and so no rows.
pub fn propagate(
    tenant: pgrx::Uuid,
    company: Option<pgrx::Uuid>,
    modules: &[String],
    user: Option<&str>,
    roles: Option<&[String]>,
) {
    if !citus_loaded() {
        return;
    }
    let Some(key) = key() else { return };
    let iat = now();
    let value = seal_with(
        key,
        &Sealed {
            tenant: *tenant.as_bytes(),
            company: company.map(|c| *c.as_bytes()),
            modules: modules.to_vec(),
            user: user.map(str::to_string),
            roles: roles.map(<[String]>::to_vec),
            iat,
            exp: iat + LIFETIME_SECS,
        },
    );
    // Citus forwards SET LOCAL (not set_config) to the connections of the transaction, open or
    // yet to open, while propagation is on; the value is base64url and a dot: nothing to quote.
    // Off again at once: Citus forwards a SET LOCAL as the text of the query that holds it, so a
    // client's own `SET LOCAL ...; SELECT ...` would reach the workers whole and run there.
    Spi::run("SET LOCAL citus.propagate_set_commands = 'local'").expect("enabling SET propagation");
    Spi::run(&format!("SET LOCAL tenancy.context = '{value}'")).expect("setting the sealed context");
    Spi::run("SET LOCAL citus.propagate_set_commands = 'none'").expect("disabling SET propagation");
    KNOWN.with_borrow_mut(|k| *k = Some(value));
}

/// The sealed context a coordinator sent, when this backend has not adopted it yet: `None`
/// when there is none (or it is this backend's own). A value that fails the check is refused
/// with an error, so a forged or replayed context is never silently taken for "no tenant".
pub fn arrived() -> Option<Sealed> {
    // Read in place, not copied: on a worker a policy asks for every row it checks.
    let raw = unsafe { *SEALED.as_ptr() };
    if raw.is_null() {
        return None;
    }
    let value = unsafe { CStr::from_ptr(raw) }.to_bytes();
    if value.is_empty() || KNOWN.with_borrow(|k| k.as_deref().map(str::as_bytes) == Some(value)) {
        return None;
    }
    let opened = match (key(), std::str::from_utf8(value)) {
        (None, _) => Err("this node has no context key"),
        (_, Err(_)) => Err("it is not a sealed context"),
        (Some(key), Ok(value)) => open_with(key, value, now()).map(|context| (context, value.to_string())),
    };
    match opened {
        Ok((context, value)) => {
            KNOWN.with_borrow_mut(|k| *k = Some(value));
            Some(context)
        }
        Err(why) => {
            ErrorReport::new(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("the tenant context in tenancy.context was refused: {why}"),
                "tenancy::sealed_context",
            )
            .set_hint(
                "Only a Citus coordinator with the cluster's context key sets tenancy.context; enter a tenant there.",
            )
            .report(PgLogLevel::ERROR);
            unreachable!("an ERROR report does not return")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(iat: u64) -> Sealed {
        Sealed {
            tenant: [7; 16],
            company: None,
            modules: vec!["hrms".into()],
            user: Some("ada@acme.example".into()),
            roles: Some(vec!["hr_manager".into()]),
            iat,
            exp: iat + LIFETIME_SECS,
        }
    }

    #[test]
    fn a_sealed_context_opens_with_its_key_only() {
        let key = [1u8; 32];
        let value = seal_with(&key, &context(1000));
        assert_eq!(open_with(&key, &value, 1001), Ok(context(1000)));
        assert_eq!(open_with(&[2u8; 32], &value, 1001), Err("its seal does not match"));
    }

    #[test]
    fn a_changed_payload_or_an_old_seal_is_refused() {
        let key = [1u8; 32];
        let value = seal_with(&key, &context(1000));
        let (_, tag) = value.split_once('.').unwrap();
        let mut other = context(1000);
        other.tenant = [8; 16];
        let forged = format!("{}.{tag}", B64.encode(serde_json::to_vec(&other).unwrap()));
        assert_eq!(open_with(&key, &forged, 1001), Err("its seal does not match"));
        assert_eq!(open_with(&key, &value, 1000 + LIFETIME_SECS + 1), Err("it has expired"));
        assert_eq!(open_with(&key, "garbage", 1001), Err("it is not a sealed context"));
    }
}
