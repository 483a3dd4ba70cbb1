//! The tenant context: which tenant (and company) the current transaction acts for.
//!
//! It is held here, in backend memory, and never in a GUC: `SET` cannot forge it, and only
//! the SQL wrappers in `sql/context.sql` (which check who is asking) can change it. It lives
//! for one transaction: cleared at commit and abort, and unwound when a subtransaction that
//! set it rolls back, so a pooled connection can never carry one tenant into the next request.
use crate::entitlements::enterable;
use crate::sealed_context;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone)]
struct Context {
    tenant: Option<pgrx::Uuid>,
    company: Option<pgrx::Uuid>,
    /// Enabled module keys, resolved for tenant and company; `None` until (re)loaded. Shared
    /// with the entitlement cache, so entering a tenant copies nothing.
    modules: Option<Rc<[String]>>,
    /// The role a binding resolved this for; `None` when entered explicitly.
    bound_role: Option<pg_sys::Oid>,
    /// Who acts within an entered tenant (the token's subject) and the tenant roles the token
    /// claims: named by the service role with `set_user`.
    user: Option<Rc<str>>,
    claimed_roles: Option<Rc<[String]>>,
}

/// One entry per subtransaction level that set a context; the top one is in force.
struct Frame {
    level: i32,
    context: Context,
}

thread_local! {
    static STACK: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    /// `use_tenant`: the tenant a role bound to several has chosen, for the session.
    static CHOICE: RefCell<Option<(pg_sys::Oid, pgrx::Uuid)>> = const { RefCell::new(None) };
}

pub fn init() {
    unsafe {
        pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut());
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn on_xact(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PARALLEL_ABORT
            | XACT_EVENT_PREPARE
    ) {
        STACK.with_borrow_mut(|stack| stack.clear());
        sealed_context::clear();
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn on_subxact(
    event: pg_sys::SubXactEvent::Type,
    _my: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::SubXactEvent::*;
    let level = unsafe { pg_sys::GetCurrentTransactionNestLevel() };
    STACK.with_borrow_mut(|stack| match event {
        SUBXACT_EVENT_ABORT_SUB => stack.retain(|f| f.level < level),
        SUBXACT_EVENT_COMMIT_SUB => {
            // The parent inherits what the committed subtransaction set.
            if stack.last().is_some_and(|f| f.level >= level) {
                let top = stack.pop().unwrap();
                stack.retain(|f| f.level < level - 1);
                stack.push(Frame { level: level - 1, context: top.context });
            }
        }
        _ => {}
    });
}

fn outer() -> pg_sys::Oid {
    unsafe { pg_sys::GetOuterUserId() }
}

/// Puts `context` in force and, on a Citus coordinator, sends it to the workers.
fn push(context: Context) {
    propagate(&context);
    push_local(context);
}

/// On a Citus coordinator, sends a context whose tenant and modules are known to the workers.
fn propagate(context: &Context) {
    if let (Some(tenant), Some(modules)) = (context.tenant, context.modules.as_deref()) {
        sealed_context::propagate(
            tenant,
            context.company,
            modules,
            context.user.as_deref(),
            context.claimed_roles.as_deref(),
        );
    }
}

fn push_local(context: Context) {
    let level = unsafe { pg_sys::GetCurrentTransactionNestLevel() };
    STACK.with_borrow_mut(|stack| {
        if stack.last().is_some_and(|f| f.level == level) {
            stack.pop();
        }
        stack.push(Frame { level, context });
    });
}

/// Reads the context in force for the caller: entered explicitly, or resolved from the
/// binding of the role the caller now acts as (`None` when there is none of either).
fn with_in_force<T>(read: impl FnOnce(Option<&Context>) -> T) -> T {
    adopt_sealed();
    let role = outer();
    STACK.with_borrow(|stack| {
        read(stack.last().map(|f| &f.context).filter(|c| c.bound_role.is_none() || c.bound_role == Some(role)))
    })
}

/// On a Citus worker: the context the coordinator sealed for this transaction, once its seal
/// is checked, becomes the context here (as if entered: for whichever role the coordinator
/// switched to).
fn adopt_sealed() {
    if let Some(sealed) = sealed_context::arrived() {
        push_local(Context {
            tenant: Some(sealed.tenant()),
            company: sealed.company(),
            modules: Some(sealed.modules.into()),
            bound_role: None,
            user: sealed.user.map(Into::into),
            claimed_roles: sealed.roles.map(Into::into),
        });
    }
}

fn is_service_member() -> bool {
    let service = unsafe { pg_sys::get_role_oid(c"tenancy_service".as_ptr(), true) };
    service != pg_sys::InvalidOid && unsafe { pg_sys::is_member_of_role(outer(), service) }
}

/// `enter_tenant`'s work, on every request of the API: enters `tenant` (and `company`) when
/// the caller is a member of tenancy_service (NOINHERIT members too), the tenant is active
/// and the company is one of its own. False otherwise, and `_enter_refused` says why with
/// its SQLSTATE (only SQL can raise the extension's own SQLSTATEs).
#[pg_extern(name = "_enter", volatile, parallel_unsafe, security_definer)]
fn enter(tenant: Option<pgrx::Uuid>, company: Option<pgrx::Uuid>) -> bool {
    let Some(tenant) = tenant else { return false };
    if !is_service_member() {
        return false;
    }
    match enterable(tenant, company) {
        Some(modules) => {
            push(Context {
                tenant: Some(tenant),
                company,
                modules: Some(modules),
                bound_role: None,
                user: None,
                claimed_roles: None,
            });
            true
        }
        None => false,
    }
}

/// The tenant in force, without a catalog read; NULL when none is, or when the caller's
/// binding has not been resolved yet in this transaction (`current_tenant_id` then does).
#[pg_extern(name = "_fast_tenant", stable, parallel_restricted)]
fn fast_tenant() -> Option<pgrx::Uuid> {
    with_in_force(|c| c.and_then(|c| c.tenant))
}

/// The tenant in force if `module` is known to be enabled for it; NULL otherwise, and
/// `module_tenant_id` takes the slow path that resolves, loads or refuses.
#[pg_extern(name = "_fast_module_tenant", stable, parallel_restricted)]
fn fast_module_tenant(module: &str) -> Option<pgrx::Uuid> {
    with_in_force(|c| {
        c.filter(|c| c.modules.as_ref().is_some_and(|m| m.iter().any(|k| k == module))).and_then(|c| c.tenant)
    })
}

/// Sets the context for the rest of the transaction. `bound_role` NULL means entered
/// explicitly (by the service role); otherwise the binding of that role produced it.
#[pg_extern(name = "_context_set", volatile, parallel_unsafe)]
fn context_set(
    tenant: Option<pgrx::Uuid>,
    company: Option<pgrx::Uuid>,
    modules: Option<Vec<String>>,
    bound_role: Option<pg_sys::Oid>,
) {
    push(Context { tenant, company, modules: modules.map(Into::into), bound_role, user: None, claimed_roles: None });
}

/// The context in force for the current (outer) role. `resolved` is false when nothing has
/// been entered and the caller's role bindings have not been looked at in this transaction.
#[pg_extern(name = "_context_get", stable, parallel_restricted)]
fn context_get() -> TableIterator<
    'static,
    (
        name!(resolved, bool),
        name!(tenant, Option<pgrx::Uuid>),
        name!(company, Option<pgrx::Uuid>),
        name!(modules, Option<Vec<String>>),
    ),
> {
    let row = with_in_force(|c| match c {
        Some(c) => (true, c.tenant, c.company, c.modules.as_deref().map(<[String]>::to_vec)),
        None => (false, None, None, None),
    });
    TableIterator::once(row)
}

/// Records the enabled modules of the context in force (loaded lazily, or reloaded after a
/// module was enabled or disabled in this transaction).
#[pg_extern(name = "_context_set_modules", volatile, parallel_unsafe)]
fn context_set_modules(modules: Vec<String>) {
    let loaded = STACK.with_borrow_mut(|stack| {
        let top = stack.last_mut()?;
        top.context.modules = Some(modules.into());
        Some(top.context.clone())
    });
    if let Some(context) = loaded {
        propagate(&context);
    }
}

/// `set_user`'s work: names who acts and the tenant roles their token claims, for the rest of
/// the transaction (a savepoint rolled back takes it back). False unless a tenant was entered
/// explicitly.
#[pg_extern(name = "_context_set_user", volatile, parallel_unsafe)]
fn context_set_user(user_id: Option<String>, roles: Option<Vec<String>>) -> bool {
    let entered = STACK.with_borrow(|stack| {
        stack.last().map(|f| f.context.clone()).filter(|c| c.bound_role.is_none() && c.tenant.is_some())
    });
    let Some(context) = entered else { return false };
    push(Context { user: user_id.map(Into::into), claimed_roles: roles.map(Into::into), ..context });
    true
}

/// Who acts and the tenant roles claimed for them, as `set_user` named them (NULLs otherwise).
#[pg_extern(name = "_context_user", stable, parallel_restricted)]
fn context_user() -> TableIterator<'static, (name!(user_id, Option<String>), name!(roles, Option<Vec<String>>))> {
    let row = with_in_force(|c| {
        c.map_or((None, None), |c| {
            (c.user.as_deref().map(str::to_string), c.claimed_roles.as_deref().map(<[String]>::to_vec))
        })
    });
    TableIterator::once(row)
}

/// Forgets what was derived from the catalog (module sets, bindings) so it is read again.
#[pg_extern(name = "_context_forget", volatile, parallel_unsafe)]
fn context_forget() {
    STACK.with_borrow_mut(|stack| {
        stack.retain(|f| f.context.bound_role.is_none());
        for frame in stack.iter_mut() {
            frame.context.modules = None;
        }
    });
}

/// The role the caller acts as: the session user or the role of `SET ROLE`, unchanged by
/// `SECURITY DEFINER` functions (so the wrappers can be definer functions and still ask
/// who called them).
#[pg_extern(name = "_outer_role", stable, parallel_safe)]
fn outer_role() -> pg_sys::Oid {
    outer()
}

/// The tenant the outer role chose with `use_tenant`, if it chose one.
#[pg_extern(name = "_session_choice", stable, parallel_restricted)]
fn session_choice() -> Option<pgrx::Uuid> {
    let role = outer();
    CHOICE.with_borrow(|c| c.and_then(|(r, t)| (r == role).then_some(t)))
}

/// Records (or clears, with NULL) the outer role's choice and drops any context a binding
/// gave it, so the choice applies from the next statement on.
#[pg_extern(name = "_choose_tenant", volatile, parallel_unsafe)]
fn choose_tenant(tenant: Option<pgrx::Uuid>) {
    let role = outer();
    CHOICE.with_borrow_mut(|c| *c = tenant.map(|t| (role, t)));
    STACK.with_borrow_mut(|stack| stack.retain(|f| f.context.bound_role.is_none()));
}
