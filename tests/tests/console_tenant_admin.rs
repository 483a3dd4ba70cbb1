//! A tenant administrator in the console, signed in through /auth/v1 in a real browser: the
//! tenant's modules (a locked one with its reason), roles, audit log and sessions; and the
//! attacks: another tenant through tampered URLs and requests, a member who is not an
//! administrator, a phone-sized screen driven from the keyboard.
use serde_json::{json, Value};
use tenancy_e2e::console::{self, assert_clean, browse, page_fetch, sign_in_tenant, then};
use tenancy_e2e::sign_in::{member, new_email};
use tenancy_e2e::*;

const PASSWORD: &str = "console password 1";

#[tokio::test]
async fn tenant_admin_signs_in_and_sees_modules_roles_audit_log_and_sessions() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, PASSWORD, &["tenant_admin"]).await;
    let colleague = new_email();
    member(&db, t.id, &colleague, PASSWORD, &["employee"]).await;
    let stranger = new_email();
    member(&db, create_tenant(&db, "free", &[]).await.id, &stranger, PASSWORD, &["employee"]).await;
    let invitee = new_email();
    let out = browse(
        &server,
        then(
            sign_in_tenant(&email, PASSWORD),
            json!([
                {"wait": "td.column-name::-p-text(Payroll)"},
                {"texts": "tbody tr", "as": "modules"},
                // Payroll's own button: other tests' modules may be listed too.
                {"click": "::-p-xpath(//tr[td[normalize-space(.)='Payroll']]//button)"},
                {"wait": "::-p-text(Upgrade for Payroll requested from the platform)"},
                {"screenshot": "tenant-modules"},
                {"goto": "/console/tenant_roles"},
                {"wait": "td.column-name::-p-text(tenant_admin)"},
                {"texts": "td.column-name", "as": "roles"},
                {"goto": "/console/events"},
                {"wait": "td.column-action"},
                {"texts": "td.column-action", "as": "events"},
                {"screenshot": "tenant-audit-log"},
                {"goto": "/console/members"},
                {"wait": "td.column-email"},
                {"texts": "td.column-email", "as": "members"},
                {"screenshot": "tenant-members"},
                {"click": "a::-p-text(Sessions and invitations)"},
                {"wait": format!("td::-p-text({email})")},
                {"fill": "form[aria-label=Invite] input[name=email]", "value": invitee},
                {"fill": "form[aria-label=Invite] input[name=role]", "value": "hr_manager"},
                {"click": "form[aria-label=Invite] button[type=submit]"},
                {"wait": format!("::-p-text(Invitation sent to {invitee})")},
                {"screenshot": "tenant-sessions"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let modules: Vec<String> =
        out["values"]["modules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
    let payroll = modules.iter().find(|r| r.starts_with("Payroll")).unwrap();
    assert!(payroll.contains("Needs the standard plan"), "{payroll}");
    assert!(modules.iter().any(|r| r.starts_with("HRMS") && !r.contains("Needs")), "{modules:?}");
    assert!(out["values"]["roles"].as_array().unwrap().contains(&json!("tenant_admin")));
    assert!(out["values"]["events"].as_array().unwrap().contains(&json!("tenant.created")));
    let mut members: Vec<String> =
        out["values"]["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
    members.sort();
    let mut expected = vec![email.clone(), colleague.clone()];
    expected.sort();
    assert_eq!(members, expected, "the tenant's members and no one else ({stranger} is another tenant's)");
    // The invitation was mailed, for this tenant and role.
    let mail = server.sink.mail_to(&invitee).await;
    assert!(!mail.text.is_empty());
    let roles: Vec<String> = db
        .query_one(
            "SELECT roles FROM auth.codes WHERE email = $1 AND kind = 'invite' AND tenant = $2",
            &[&invitee, &t.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(roles, vec!["hr_manager".to_string()]);
    // The request is in the tenant's log, where the platform reads it.
    let requests: Vec<Value> = db
        .query(
            "SELECT detail FROM tenancy.events WHERE tenant_id = $1 AND action = 'module.upgrade_requested'",
            &[&t.id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0]["module"].clone(), requests[0]["plan"].clone()), (json!("payroll"), json!("standard")));
}

#[tokio::test]
async fn tenant_admin_cannot_see_or_change_another_tenant_through_the_console() {
    let server = console::start().await;
    let db = superuser().await;
    let own = create_tenant(&db, "standard", &["hrms"]).await;
    let victim = create_tenant(&db, "standard", &["hrms"]).await;
    db.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 7}')", &[&victim.id]).await.unwrap();
    let email = new_email();
    member(&db, own.id, &email, PASSWORD, &["tenant_admin"]).await;
    let victim_events: i64 =
        db.query_one("SELECT count(*) FROM tenancy.events WHERE tenant_id = $1", &[&victim.id]).await.unwrap().get(0);
    let platform = json!({"Accept-Profile": "platform"});
    let platform_write = json!({"Content-Profile": "platform"});
    let out = browse(
        &server,
        then(
            sign_in_tenant(&email, PASSWORD),
            json!([
                {"wait": "td.column-name"},
                // Tampered URLs: the platform's pages and the other tenant's.
                {"goto": "/console/tenants"},
                {"eval": "document.body.innerText", "as": "tenants_page"},
                {"goto": format!("/console/tenants/{}/show/modules", victim.id)},
                {"eval": "document.body.innerText", "as": "victim_page"},
                // Tampered requests with the console's own token.
                {"eval": page_fetch("GET", "/tenants?select=slug", platform.clone(), None), "as": "list_tenants"},
                {"eval": page_fetch("POST", "/rpc/suspend_tenant", platform_write.clone(), Some(json!({"id": victim.id}))), "as": "suspend"},
                {"eval": page_fetch("POST", "/rpc/enable_module", platform_write, Some(json!({"tenant_id": victim.id, "module": "chat", "config": {}}))), "as": "configure"},
                {"eval": page_fetch("GET", "/events", json!({"Accept-Profile": "api", "X-Tenant-ID": victim.id}), None), "as": "victim_events"},
                {"eval": page_fetch("GET", "/events?select=action", json!({"Accept-Profile": "api"}), None), "as": "own_events"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let values = &out["values"];
    for page in ["tenants_page", "victim_page"] {
        let text = values[page].as_str().unwrap();
        assert!(!text.contains(&victim.slug) && !text.contains(&own.slug), "{page}: {text}");
    }
    assert!(
        values["tenants_page"].as_str().unwrap().contains("not found")
            || values["tenants_page"].as_str().unwrap().contains("Not Found")
    );
    assert_eq!(values["list_tenants"]["status"], 403, "{}", values["list_tenants"]);
    assert_eq!(values["suspend"]["status"], 403, "{}", values["suspend"]);
    assert_eq!(values["configure"]["status"], 403, "{}", values["configure"]);
    assert_eq!(values["victim_events"]["status"], 403);
    assert_eq!(values["victim_events"]["body"]["code"], "TN101");
    assert_eq!(values["own_events"]["status"], 200);
    // Nothing crossed: the other tenant is as it was.
    let row = db
        .query_one(
            "SELECT t.status, tm.config, (SELECT count(*) FROM tenancy.events e WHERE e.tenant_id = t.id)
             FROM tenancy.tenants t JOIN tenancy.tenant_modules tm ON tm.tenant_id = t.id AND tm.module = 'chat'
             WHERE t.id = $1",
            &[&victim.id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "active");
    assert_eq!(row.get::<_, Value>(1), json!({"retention_days": 7}));
    assert_eq!(row.get::<_, i64>(2), victim_events);
}

#[tokio::test]
async fn a_member_who_is_not_an_administrator_is_refused_and_signed_out() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "standard", &["hrms"]).await;
    let email = new_email();
    let id = member(&db, t.id, &email, PASSWORD, &["employee"]).await;
    let out = browse(
        &server,
        then(
            sign_in_tenant(&email, PASSWORD),
            json!([
                {"text": "[role=alert]", "as": "refused"},
                {"eval": "sessionStorage.getItem('tenancy.console.session')", "as": "kept"},
                {"goto": "/console/modules"},
                {"wait": "form[aria-label='Sign in']"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert!(out["values"]["refused"].as_str().unwrap().contains("not an administrator"));
    assert_eq!(out["values"]["kept"], Value::Null);
    let live: i64 = db
        .query_one("SELECT count(*) FROM auth.sessions WHERE identity_id = $1 AND ended_at IS NULL", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(live, 0, "the refused sign-in's session was ended");
}

#[tokio::test]
async fn a_wrong_password_shows_the_api_message() {
    let server = console::start().await;
    let out = browse(
        &server,
        then(sign_in_tenant(&new_email(), "wrong"), json!([{"text": "[role=alert]", "as": "refused"}])),
    )
    .await;
    assert_clean(&out);
    assert!(out["values"]["refused"].as_str().unwrap().contains("Invalid login credentials"), "{}", out["values"]);
}

#[tokio::test]
async fn the_console_is_usable_from_the_keyboard_on_a_phone_sized_screen() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    member(&db, t.id, &email, PASSWORD, &["tenant_admin"]).await;
    let out = browse(
        &server,
        json!([
            {"viewport": {"width": 390, "height": 844, "isMobile": true, "hasTouch": true}},
            {"goto": "/console/"},
            {"wait": "input[name=email]"},
            // The email field has the focus; the rest is typed and tabbed.
            {"type": email},
            {"press": ["Tab"]},
            {"type": PASSWORD},
            {"press": ["Enter"]},
            {"wait": "::-p-text(Payroll)"},
            // Nothing reaches past the screen's right edge (no sideways scrolling).
            {"eval": "Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right)) <= window.innerWidth", "as": "fits"},
            {"texts": "li", "as": "lines"},
            {"screenshot": "phone-modules"},
        ]),
    )
    .await;
    assert_clean(&out);
    assert_eq!(out["values"]["fits"], true, "the page is wider than the phone");
    let lines = out["values"]["lines"].as_array().unwrap();
    let payroll = lines.iter().filter_map(|l| l.as_str()).find(|l| l.starts_with("Payroll")).unwrap();
    assert!(payroll.contains("Needs the standard plan"), "{payroll}");
}

#[tokio::test]
async fn tenant_admin_changes_a_companys_configuration_and_sees_the_merge() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    db.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 90}')", &[&t.id]).await.unwrap();
    let company = create_company(&db, t.id, "Harbour").await;
    let email = new_email();
    member(&db, t.id, &email, PASSWORD, &["tenant_admin"]).await;
    let out = browse(
        &server,
        then(
            sign_in_tenant(&email, PASSWORD),
            json!([
                {"wait": "td.column-name"},
                {"click": "a::-p-text(Configuration)"},
                {"wait": "[data-company=Harbour][data-module=chat]"},
                {"fill": "[data-company=Harbour] textarea.config-input", "value": "{\"max_message_length\": 280}"},
                {"click": "[data-company=Harbour] button::-p-text(Save configuration)"},
                {"wait": "[data-company=Harbour] .config-merged::-p-text(280)"},
                {"text": "[data-company=Harbour] .config-merged", "as": "merged"},
                {"screenshot": "tenant-configuration"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let merged = out["values"]["merged"].as_str().unwrap();
    assert!(merged.contains("\"max_message_length\": 280") && merged.contains("\"retention_days\": 90"), "{merged}");
    let config: Value = db
        .query_one("SELECT config FROM tenancy.company_modules WHERE company_id = $1 AND module = 'chat'", &[&company])
        .await
        .unwrap()
        .get(0);
    assert_eq!(config, json!({"max_message_length": 280}));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_the_pages_show_nothing_after() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["hrms"]).await;
    let email = new_email();
    let id = member(&db, t.id, &email, PASSWORD, &["tenant_admin"]).await;
    let out = browse(
        &server,
        then(
            sign_in_tenant(&email, PASSWORD),
            json!([
                {"wait": "td.column-name"},
                {"click": "button[aria-label=Profile]"},
                {"click": "li::-p-text(Logout)"},
                {"wait": "form[aria-label='Sign in']"},
                {"goto": "/console/members"},
                {"wait": "form[aria-label='Sign in']"},
                {"absent": "td", "as": "no_rows"},
                {"eval": "sessionStorage.getItem('tenancy.console.session')", "as": "kept"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!((out["values"]["no_rows"].clone(), out["values"]["kept"].clone()), (json!(true), Value::Null));
    let live: i64 = db
        .query_one("SELECT count(*) FROM auth.sessions WHERE identity_id = $1 AND ended_at IS NULL", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(live, 0, "signing out ended the sign-in session");
}
