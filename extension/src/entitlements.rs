//! Which tenants may be entered, and which modules they (and their companies) have.
//!
//! `enter_tenant` asks on every request, so the answer is cached per backend. Any change to
//! the catalog tables it is drawn from fires a statement trigger that sends a relcache
//! invalidation for `tenancy.tenants` (the way Citus keeps its metadata cache): every backend
//! drops its cache at its next transaction start, so a suspension or a disabled module takes
//! effect from the next transaction on, as a fresh read would.
use crate::saved_query::SavedQuery;
use pgrx::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

type Key = (pgrx::Uuid, Option<pgrx::Uuid>);

thread_local! {
    /// (tenant, company) -> the enabled modules, or `None` when it cannot be entered.
    static CACHE: RefCell<HashMap<Key, Option<Rc<[String]>>>> = RefCell::new(HashMap::new());
    static TENANTS_RELID: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::InvalidOid) };
    /// Bumped by every invalidation: an answer read while one arrived may predate the change
    /// it announces, so it is not cached.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

pub fn init() {
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache_invalidation), pg_sys::Datum::from(0)) };
}

#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    if relid == pg_sys::InvalidOid || relid == TENANTS_RELID.get() {
        CACHE.with_borrow_mut(|cache| cache.clear());
        GENERATION.set(GENERATION.get() + 1);
    }
}

/// Looked up on every cache miss (a syscache hit): the table may have been dropped and
/// recreated since, with another oid.
fn refresh_tenants_relid() -> pg_sys::Oid {
    let namespace = unsafe { pg_sys::get_namespace_oid(c"tenancy".as_ptr(), false) };
    TENANTS_RELID.set(unsafe { pg_sys::get_relname_relid(c"tenants".as_ptr(), namespace) });
    TENANTS_RELID.get()
}

// Qualified names and operators throughout: the caller's search_path must not matter.
static ENABLED_MODULES: SavedQuery = SavedQuery::new(
    "SELECT ARRAY(
         SELECT m.key FROM tenancy.modules m
         LEFT JOIN tenancy.tenant_modules tm
                ON tm.module OPERATOR(pg_catalog.=) m.key AND tm.tenant_id OPERATOR(pg_catalog.=) $1
         LEFT JOIN tenancy.company_modules cm
                ON cm.module OPERATOR(pg_catalog.=) m.key AND cm.company_id OPERATOR(pg_catalog.=) $2
         WHERE m.is_core OR (coalesce(tm.enabled, false) AND coalesce(cm.enabled, true))
         ORDER BY m.key)",
);

static ENTERABLE: SavedQuery = SavedQuery::new(
    "SELECT t.status OPERATOR(pg_catalog.=) 'active',
            $2 IS NULL OR EXISTS (SELECT FROM tenancy.companies c
                                  WHERE c.id OPERATOR(pg_catalog.=) $2 AND c.tenant_id OPERATOR(pg_catalog.=) $1)
     FROM tenancy.tenants t WHERE t.id OPERATOR(pg_catalog.=) $1",
);

const UUIDS: [pg_sys::Oid; 2] = [pg_sys::UUIDOID, pg_sys::UUIDOID];

/// Core modules, plus the tenant's enabled ones that the company (if any) has not switched off.
pub fn enabled_modules(tenant: pgrx::Uuid, company: Option<pgrx::Uuid>) -> Vec<String> {
    ENABLED_MODULES
        .first_row(&UUIDS, vec![tenant.into(), company.into()], |row| row.get::<Vec<String>>(1))
        .flatten()
        .unwrap_or_default()
}

/// The modules of `tenant` and `company` when the tenant exists and is active and the company
/// is its own; `None` when it cannot be entered. Cached (see the module comment).
pub fn enterable(tenant: pgrx::Uuid, company: Option<pgrx::Uuid>) -> Option<Rc<[String]>> {
    if let Some(hit) = CACHE.with_borrow(|cache| cache.get(&(tenant, company)).cloned()) {
        return hit;
    }
    refresh_tenants_relid();
    let generation = GENERATION.get();
    let valid = ENTERABLE
        .first_row(&UUIDS, vec![tenant.into(), company.into()], |row| {
            Ok(row.get::<bool>(1)?.unwrap_or(false) && row.get::<bool>(2)?.unwrap_or(false))
        })
        .unwrap_or(false);
    let answer: Option<Rc<[String]>> = valid.then(|| enabled_modules(tenant, company).into());
    if GENERATION.get() == generation {
        CACHE.with_borrow_mut(|cache| cache.insert((tenant, company), answer.clone()));
    }
    answer
}

#[pg_extern(name = "_enabled_modules", stable, parallel_restricted)]
fn enabled_modules_sql(tenant: pgrx::Uuid, company: Option<pgrx::Uuid>) -> Vec<String> {
    enabled_modules(tenant, company)
}

/// Called by the catalog tables' statement triggers: every backend's cache is stale once
/// this transaction commits (and this backend's at its next command).
#[pg_extern(name = "_catalog_changed", volatile, parallel_unsafe)]
fn catalog_changed() {
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(refresh_tenants_relid()) };
}
