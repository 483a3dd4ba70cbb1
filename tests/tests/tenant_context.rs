//! The tenant context: who may set it, how long it lasts, and that nothing else moves it.
use tenancy_e2e::*;
use uuid::Uuid;

async fn current(db: &tokio_postgres::Client) -> Option<Uuid> {
    value(db, "SELECT tenancy.current_tenant_id()").await
}

async fn employees_tenants(db: &impl tokio_postgres::GenericClient) -> Vec<Uuid> {
    db.query("SELECT DISTINCT tenant_id FROM hrms.employees", &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

async fn two_tenants_with_employees(db: &mut tokio_postgres::Client) -> (Tenant, Tenant) {
    let a = create_tenant(db, "free", &["hrms"]).await;
    let b = create_tenant(db, "free", &["hrms"]).await;
    for t in [&a, &b] {
        as_tenant(
            db,
            t.id,
            "INSERT INTO hrms.employees (first_name, last_name, email) VALUES ('Ada', 'L', 'ada@x.example')",
        )
        .await
        .unwrap();
    }
    (a, b)
}

#[tokio::test]
async fn a_pooled_service_connection_carries_nothing_between_transactions() {
    let mut admin = superuser().await;
    let (a, b) = two_tenants_with_employees(&mut admin).await;
    // PostgREST's idiom: a NOINHERIT login role that is a member of the service role.
    let service = create_role(&admin, "NOINHERIT IN ROLE tenancy_service, tenant_member").await;
    let mut svc = connect_as(&service).await;

    let tx = svc.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&a.id]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    assert_eq!(employees_tenants(&tx).await, vec![a.id]);
    tx.commit().await.unwrap();
    assert_eq!(current(&svc).await, None, "cleared at commit");

    let tx = svc.transaction().await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    assert_eq!(employees_tenants(&tx).await, Vec::<Uuid>::new(), "no context, no rows");
    tx.commit().await.unwrap();

    let tx = svc.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&b.id]).await.unwrap();
    tx.batch_execute("SET LOCAL ROLE tenant_member").await.unwrap();
    assert_eq!(employees_tenants(&tx).await, vec![b.id]);
    tx.rollback().await.unwrap();
    assert_eq!(current(&svc).await, None, "cleared at rollback");

    // ... and at an abort caused by an error.
    svc.batch_execute("BEGIN").await.unwrap();
    svc.execute("SELECT tenancy.enter_tenant($1)", &[&a.id]).await.unwrap();
    assert!(svc.batch_execute("SELECT 1 / 0").await.is_err());
    svc.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(current(&svc).await, None, "cleared at abort");
}

#[tokio::test]
async fn entering_is_refused_for_unknown_suspended_or_foreign() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let b = create_tenant(&admin, "free", &[]).await;
    let b_company = create_company(&admin, b.id, "B One").await;
    let service = create_role(&admin, "NOINHERIT IN ROLE tenancy_service").await;
    let svc = connect_as(&service).await;

    let enter = |t: Uuid, c: Option<Uuid>| {
        let svc = &svc;
        async move { svc.execute("SELECT tenancy.enter_tenant($1, $2)", &[&t, &c]).await }
    };
    assert_eq!(sqlstate(enter(Uuid::new_v4(), None).await), "TN001");
    assert_eq!(sqlstate(enter(a.id, Some(b_company)).await), "TN003");
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&a.id]).await.unwrap();
    assert_eq!(sqlstate(enter(a.id, None).await), "TN002");
    admin.execute("SELECT tenancy.activate_tenant($1)", &[&a.id]).await.unwrap();
    enter(a.id, None).await.unwrap();

    // Roles outside tenancy_service may not enter, whatever else they are.
    for attributes in ["IN ROLE tenant_member", "NOINHERIT", "CREATEROLE"] {
        let other = connect_as(&create_role(&admin, attributes).await).await;
        let refused = other.execute("SELECT tenancy.enter_tenant($1)", &[&a.id]).await;
        assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE, "{attributes}");
    }
}

#[tokio::test]
async fn the_company_is_part_of_the_context() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let company = create_company(&admin, a.id, "Branch").await;
    let tx = admin.transaction().await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1, $2)", &[&a.id, &company]).await.unwrap();
    let row = tx.query_one("SELECT tenancy.current_tenant_id(), tenancy.current_company_id()", &[]).await.unwrap();
    assert_eq!((row.get::<_, Uuid>(0), row.get::<_, Uuid>(1)), (a.id, company));
}

#[tokio::test]
async fn a_rolled_back_savepoint_takes_its_context_with_it() {
    let mut admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    let b = create_tenant(&admin, "free", &[]).await;
    let tx = admin.transaction().await.unwrap();
    let now = || async { tx.query_one("SELECT tenancy.current_tenant_id()", &[]).await.unwrap().get::<_, Uuid>(0) };
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&a.id]).await.unwrap();
    tx.batch_execute("SAVEPOINT s1").await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&b.id]).await.unwrap();
    assert_eq!(now().await, b.id);
    tx.batch_execute("ROLLBACK TO SAVEPOINT s1").await.unwrap();
    assert_eq!(now().await, a.id, "rolled back with the savepoint");
    tx.batch_execute("SAVEPOINT s2").await.unwrap();
    tx.execute("SELECT tenancy.enter_tenant($1)", &[&b.id]).await.unwrap();
    tx.batch_execute("RELEASE SAVEPOINT s2").await.unwrap();
    assert_eq!(now().await, b.id, "kept by a released savepoint");
    tx.commit().await.unwrap();
    assert_eq!(current(&admin).await, None);
}

#[tokio::test]
async fn no_setting_role_or_internal_call_switches_an_analysts_tenant() {
    let mut admin = superuser().await;
    let (a, b) = two_tenants_with_employees(&mut admin).await;
    let analyst = connect_as(&create_analyst(&admin, &[a.id]).await).await;
    assert_eq!(current(&analyst).await, Some(a.id), "a binding to one tenant is the context");

    let b_id = b.id.to_string();
    for setting in
        ["tenancy.tenant_id", "tenancy.current_tenant", "app.tenant_id", "app.current_tenant", "request.jwt.claims"]
    {
        analyst.execute("SELECT set_config($1, $2, false)", &[&setting, &b_id]).await.unwrap();
    }
    analyst.batch_execute(&format!("SET tenancy.tenant_id = '{b_id}'")).await.unwrap();
    assert_eq!(current(&analyst).await, Some(a.id));
    assert_eq!(employees_tenants(&analyst).await, vec![a.id]);

    let refused = [
        analyst.execute("SELECT tenancy.enter_tenant($1)", &[&b.id]).await.map(|_| ()),
        analyst.execute("SELECT tenancy.use_tenant($1)", &[&b.id]).await.map(|_| ()),
        analyst.execute("SELECT tenancy._context_set($1, NULL, NULL, NULL)", &[&b.id]).await.map(|_| ()),
        analyst.execute("SELECT tenancy._choose_tenant($1)", &[&b.id]).await.map(|_| ()),
        analyst.batch_execute("SET ROLE tenancy_service").await,
        analyst.batch_execute("SET SESSION AUTHORIZATION postgres").await,
        analyst.execute("SELECT tenancy.bind_role(current_user::regrole, $1)", &[&b.id]).await.map(|_| ()),
        analyst.batch_execute("SELECT * FROM tenancy.tenants").await,
        analyst.batch_execute("UPDATE tenancy.role_bindings SET tenant_id = tenant_id").await,
    ];
    for (i, r) in refused.into_iter().enumerate() {
        assert_eq!(sqlstate(r), INSUFFICIENT_PRIVILEGE, "attempt {i}");
    }
    assert_eq!(current(&analyst).await, Some(a.id));
    assert_eq!(employees_tenants(&analyst).await, vec![a.id]);
}

#[tokio::test]
async fn a_role_bound_to_several_tenants_chooses_among_those_only() {
    let mut admin = superuser().await;
    let (a, b) = two_tenants_with_employees(&mut admin).await;
    let other = create_tenant(&admin, "free", &["hrms"]).await;
    let role = create_analyst(&admin, &[a.id, b.id]).await;
    let analyst = connect_as(&role).await;

    assert_eq!(current(&analyst).await, None, "bound to two: no tenant until one is chosen");
    assert_eq!(employees_tenants(&analyst).await, Vec::<Uuid>::new());
    let bound: Vec<Uuid> =
        analyst.query("SELECT id FROM tenancy.bound_tenants()", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(bound.len(), 2);
    assert!(bound.contains(&a.id) && bound.contains(&b.id));

    analyst.execute("SELECT tenancy.use_tenant($1)", &[&b.id]).await.unwrap();
    assert_eq!(employees_tenants(&analyst).await, vec![b.id]);
    analyst.execute("SELECT tenancy.use_tenant($1)", &[&a.id]).await.unwrap();
    assert_eq!(employees_tenants(&analyst).await, vec![a.id]);
    let refused = analyst.execute("SELECT tenancy.use_tenant($1)", &[&other.id]).await;
    assert_eq!(sqlstate(refused), INSUFFICIENT_PRIVILEGE);
    assert_eq!(employees_tenants(&analyst).await, vec![a.id]);

    // Unbinding takes effect at once, even for the chosen tenant.
    admin.execute("SELECT tenancy.unbind_role($1::text::regrole, $2)", &[&role, &a.id]).await.unwrap();
    assert_eq!(current(&analyst).await, Some(b.id), "one binding left: that one");
    admin.execute("SELECT tenancy.unbind_role($1::text::regrole, $2)", &[&role, &b.id]).await.unwrap();
    assert_eq!(current(&analyst).await, None);
    assert_eq!(employees_tenants(&analyst).await, Vec::<Uuid>::new());
}

#[tokio::test]
async fn a_suspended_tenant_is_refused_to_its_analysts() {
    let mut admin = superuser().await;
    let (a, _) = two_tenants_with_employees(&mut admin).await;
    let analyst = connect_as(&create_analyst(&admin, &[a.id]).await).await;
    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&a.id]).await.unwrap();
    assert_eq!(sqlstate(analyst.query("SELECT * FROM hrms.employees", &[]).await), "TN002");
    admin.execute("SELECT tenancy.activate_tenant($1)", &[&a.id]).await.unwrap();
    assert_eq!(employees_tenants(&analyst).await, vec![a.id]);
}

#[tokio::test]
async fn superusers_and_bypassrls_roles_cannot_be_bound() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &[]).await;
    for attributes in ["SUPERUSER", "BYPASSRLS"] {
        let role = create_role(&admin, attributes).await;
        let refused = admin.execute("SELECT tenancy.bind_role($1::text::regrole, $2)", &[&role, &a.id]).await;
        assert_eq!(sqlstate(refused), "22023", "{attributes}");
    }
}

#[tokio::test]
async fn another_sessions_changes_apply_from_the_next_transaction() {
    let admin = superuser().await;
    let a = create_tenant(&admin, "free", &["hrms", "chat"]).await;
    let service = create_role(&admin, "NOINHERIT IN ROLE tenancy_service, tenant_member").await;
    let mut svc = connect_as(&service).await;
    async fn read_channels(svc: &mut tokio_postgres::Client, tenant: Uuid) -> Result<(), tokio_postgres::Error> {
        let tx = svc.transaction().await?;
        tx.execute("SELECT tenancy.enter_tenant($1)", &[&tenant]).await?;
        tx.batch_execute("SET LOCAL ROLE tenant_member; SELECT * FROM chat.channels").await?;
        tx.commit().await
    }
    // Entered once, so this connection has cached what it may enter.
    read_channels(&mut svc, a.id).await.unwrap();

    admin.execute("SELECT tenancy.disable_module($1, 'chat')", &[&a.id]).await.unwrap();
    assert_eq!(sqlstate(read_channels(&mut svc, a.id).await), "TN010");
    admin.execute("SELECT tenancy.enable_module($1, 'chat')", &[&a.id]).await.unwrap();
    read_channels(&mut svc, a.id).await.unwrap();

    admin.execute("SELECT tenancy.suspend_tenant($1)", &[&a.id]).await.unwrap();
    assert_eq!(sqlstate(read_channels(&mut svc, a.id).await), "TN002");
    admin.execute("SELECT tenancy.activate_tenant($1)", &[&a.id]).await.unwrap();
    read_channels(&mut svc, a.id).await.unwrap();
}
