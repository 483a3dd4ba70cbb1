//! The platform administrator in the console, in a real browser: tenants listed, searched,
//! filtered, sorted and paged; a tenant created, a module enabled, a locked one shown with its
//! reason, configuration changed at the tenant and company levels with the merge shown, the
//! tenant suspended and reactivated; bulk creation with per-item errors. Each action is checked
//! through REST as well.
use serde_json::{json, Value};
use tenancy_e2e::api::{self, json};
use tenancy_e2e::console::{self, assert_clean, browse, page_fetch, sign_in_platform, then};
use tenancy_e2e::*;

/// The tenant of `slug` as the platform API shows it (null when there is none).
async fn tenant_over_rest(server: &tenancy_e2e::sign_in::SignInApi, slug: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}/tenants?slug=eq.{slug}", server.api.url))
        .bearer_auth(api::platform_token())
        .header("Accept-Profile", "platform")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    body[0].clone()
}

/// A module of `tenant`'s grid over REST, at the tenant level or a company's.
async fn module_over_rest(
    server: &tenancy_e2e::sign_in::SignInApi,
    tenant: &str,
    company: Option<&str>,
    key: &str,
) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/rpc/module_grid", server.api.url))
        .bearer_auth(api::platform_token())
        .header("Content-Profile", "platform")
        .json(&json!({"tenant_id": tenant, "company_id": company}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().iter().find(|m| m["key"] == key).cloned().unwrap()
}

#[tokio::test]
async fn platform_admin_creates_a_tenant_enables_a_module_sees_a_locked_one_and_changes_configuration() {
    let server = console::start().await;
    let slug = unique("console");
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"screenshot": "platform-tenants"},
                {"goto": "/console/tenants/create"},
                {"fill": "input[name=slug]", "value": slug},
                {"fill": "input[name=name]", "value": "Console Test Ltd"},
                {"click": "input[type=checkbox][value=hrms]"},
                {"click": "button[type=submit]"},
                {"wait": format!("::-p-text({slug})")},
                {"click": "a::-p-text(Modules)"},
                {"wait": "[data-module=payroll][data-state=locked]"},
                {"text": "[data-module=payroll] .reason", "as": "payroll_reason"},
                {"click": "[data-module=chat] button::-p-text(Enable)"},
                {"wait": "[data-module=chat][data-state=enabled]"},
                {"fill": "[data-module=chat] textarea.config-input", "value": "{\"retention_days\": 30}"},
                {"click": "[data-module=chat] button::-p-text(Save configuration)"},
                {"wait": "[data-module=chat] .config-merged::-p-text(30)"},
                {"text": "[data-module=chat] .configuration", "as": "chat_configuration"},
                {"screenshot": "platform-module-grid"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let tenant = tenant_over_rest(&server, &slug).await;
    assert_eq!(tenant["name"], "Console Test Ltd");
    assert_eq!(tenant["plan"], "free");
    assert_eq!(tenant["modules"], json!(["chat", "hrms", "users"]));
    let reason = out["values"]["payroll_reason"].as_str().unwrap();
    assert!(reason.contains("standard plan"), "{reason}");

    // The merge the page showed is the API's: defaults, then the tenant's.
    let id = tenant["id"].as_str().unwrap();
    let chat = module_over_rest(&server, id, None, "chat").await;
    assert_eq!(chat["tenant_config"], json!({"retention_days": 30}));
    assert_eq!(chat["merged_config"], json!({"max_message_length": 4000, "retention_days": 30}));
    let shown = out["values"]["chat_configuration"].as_str().unwrap();
    assert!(shown.contains("\"max_message_length\": 4000") && shown.contains("\"retention_days\": 30"), "{shown}");
    let payroll = module_over_rest(&server, id, None, "payroll").await;
    assert_eq!(
        (payroll["enabled"].clone(), payroll["upgrade"].clone(), payroll["reason"].clone()),
        (json!(false), json!(true), json!("plan"))
    );
}

#[tokio::test]
async fn platform_admin_sets_a_company_configuration_and_sees_the_merge_of_three_levels() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &["chat"]).await;
    db.execute("SELECT tenancy.enable_module($1, 'chat', '{\"retention_days\": 90}')", &[&t.id]).await.unwrap();
    let company = create_company(&db, t.id, "Branch North").await;
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"goto": format!("/console/tenants/{}/show/modules", t.id)},
                {"wait": "[data-module=chat][data-state=enabled]"},
                {"click": "#company-choice"},
                {"click": "li::-p-text(Branch North)"},
                {"wait": "[data-module=chat] textarea[aria-label='Chat company configuration']"},
                {"fill": "[data-module=chat] textarea.config-input", "value": "{\"max_message_length\": 500}"},
                {"click": "[data-module=chat] button::-p-text(Save configuration)"},
                {"wait": "[data-module=chat] .config-merged::-p-text(500)"},
                {"text": "[data-module=chat] .configuration", "as": "merged"},
                {"screenshot": "platform-configuration"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let chat = module_over_rest(&server, &t.id.to_string(), Some(&company.to_string()), "chat").await;
    assert_eq!(chat["company_config"], json!({"max_message_length": 500}));
    assert_eq!(chat["merged_config"], json!({"max_message_length": 500, "retention_days": 90}));
    let shown = out["values"]["merged"].as_str().unwrap();
    assert!(shown.contains("\"retention_days\": 90") && shown.contains("\"max_message_length\": 500"), "{shown}");
}

#[tokio::test]
async fn platform_admin_suspends_and_reactivates_a_tenant_after_confirming() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "standard", &["hrms"]).await;
    let show = format!("/console/tenants/{}/show", t.id);
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"goto": show},
                {"click": "button::-p-text(Suspend)"},
                {"wait": ".MuiDialog-root"},
                {"screenshot": "platform-suspend-confirm"},
                // Cancelled first: nothing happens.
                {"click": ".MuiDialog-root button::-p-text(Cancel)"},
                {"eval": page_fetch("GET", &format!("/tenants?id=eq.{}", t.id), json!({"Accept-Profile": "platform"}), None), "as": "after_cancel"},
                {"click": "button::-p-text(Suspend)"},
                {"click": ".MuiDialog-root button::-p-text(Suspend)"},
                {"wait": "button::-p-text(Activate)"},
                {"text": ".RaShow-main .MuiChip-label", "as": "suspended"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!(out["values"]["after_cancel"]["body"][0]["status"], "active");
    assert_eq!(out["values"]["suspended"], "suspended");
    assert_eq!(tenant_over_rest(&server, &t.slug).await["status"], "suspended");

    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"goto": format!("/console/tenants/{}/show", t.id)},
                {"click": "button::-p-text(Activate)"},
                {"click": ".MuiDialog-root button::-p-text(Activate)"},
                {"wait": "button::-p-text(Suspend)"},
                {"goto": format!("/console/tenants/{}/show/events", t.id)},
                {"wait": "td.column-action::-p-text(tenant.activated)"},
                {"texts": "td.column-action", "as": "events"},
                {"screenshot": "platform-event-log"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!(tenant_over_rest(&server, &t.slug).await["status"], "active");
    let events = out["values"]["events"].as_array().unwrap();
    assert!(events.contains(&json!("tenant.suspended")), "{events:?}");
}

#[tokio::test]
async fn tenants_are_searched_filtered_sorted_and_paged() {
    let server = console::start().await;
    let db = superuser().await;
    let prefix = unique("find").replace('-', "");
    for (suffix, plan) in [("a", "standard"), ("b", "free"), ("c", "standard")] {
        let slug = format!("{prefix}{suffix}");
        db.execute("SELECT tenancy.create_tenant($1, $1, $2)", &[&slug, &plan]).await.unwrap();
    }
    let filter = json!({"name@ilike": prefix, "plan": "standard"}).to_string();
    let list = format!("/console/tenants?filter={}&sort=name&order=DESC&perPage=1&page=1", urlencode(&filter));
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"fill": "input[name='name@ilike']", "value": prefix},
                {"wait": ".MuiTablePagination-displayedRows::-p-text(1-3 of 3)"},
                {"texts": "td.column-slug", "as": "searched"},
                {"goto": list},
                {"wait": format!("td.column-slug::-p-text({prefix}c)")},
                {"texts": "td.column-slug", "as": "first_page"},
                {"text": ".MuiTablePagination-displayedRows", "as": "range"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!(out["values"]["searched"], json!([format!("{prefix}a"), format!("{prefix}b"), format!("{prefix}c")]));
    assert_eq!(out["values"]["first_page"], json!([format!("{prefix}c")]));
    assert_eq!(out["values"]["range"], "1-1 of 2");
    let asked: Vec<&str> = out["responses"].as_array().unwrap().iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(asked.iter().any(|p| p.contains("plan=eq.standard") && p.contains("order=name.desc")), "{asked:?}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn bulk_creation_shows_each_refused_item_and_creates_none_then_all() {
    let server = console::start().await;
    let fresh = unique("bulk");
    let other = unique("bulk");
    let lines = format!("{fresh}, Fresh, free\nacme, Taken, free\n{other}, Other, platinum");
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"click": "a::-p-text(Bulk create)"},
                {"fill": "textarea[name=tenants]", "value": lines},
                {"click": "button::-p-text(Create all)"},
                {"wait": "[data-item='2'] .item-result"},
                {"texts": ".item-result", "as": "items"},
                {"text": "[role=alert]", "as": "error"},
                {"screenshot": "platform-bulk-errors"},
                {"eval": page_fetch("GET", &format!("/tenants?slug=in.({fresh},{other})"), json!({"Accept-Profile": "platform"}), None), "as": "after_refusal"},
                {"fill": "textarea[name=tenants]", "value": format!("{fresh}, Fresh, free\n{other}, Other, standard")},
                {"click": "button::-p-text(Create all)"},
                {"wait": "td.column-slug"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let items = out["values"]["items"].as_array().unwrap();
    assert!(items[0].as_str().unwrap().starts_with("ok"), "{items:?}");
    assert!(items[1].as_str().unwrap().contains("23505"), "{items:?}");
    assert!(items[2].as_str().unwrap().contains("TN041"), "{items:?}");
    assert!(out["values"]["error"].as_str().unwrap().contains("2 of 3 tenants could not be created"));
    assert_eq!(out["values"]["after_refusal"]["body"], json!([]), "a refused bulk creation created nothing");
    // The second attempt created both.
    assert_eq!(tenant_over_rest(&server, &fresh).await["plan"], "free");
    assert_eq!(tenant_over_rest(&server, &other).await["plan"], "standard");
}

#[tokio::test]
async fn editing_a_tenant_previews_its_theme_and_shows_a_refusal_as_the_api_says_it() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "standard", &["hrms", "payroll"]).await;
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"goto": format!("/console/tenants/{}/edit", t.id)},
                {"fill": "input[name=name]", "value": "Renamed Ltd"},
                {"fill": "input[name='theme.primary']", "value": "#123456"},
                {"wait": "[aria-label='Theme preview'] ::-p-text(Renamed Ltd)"},
                {"eval": "getComputedStyle(document.querySelector(\"[aria-label='Theme preview'] > div\")).backgroundColor", "as": "preview"},
                {"screenshot": "platform-tenant-edit"},
                {"absent": "button::-p-text(Delete)", "as": "no_delete"},
                {"click": "[role=combobox]:has(~ input[name=plan])"},
                {"click": "li[data-value=free]"},
                {"gone": "[role=listbox]"},
                {"click": "button[type=submit]"},
                {"text": ".MuiSnackbarContent-message", "as": "refused"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!(out["values"]["preview"], "rgb(18, 52, 86)");
    assert_eq!(out["values"]["no_delete"], true, "deleting is the tenant page's, with confirmation");
    let refused = out["values"]["refused"].as_str().unwrap();
    assert!(
        refused.contains("below the tier of enabled module(s) \"payroll\"")
            && refused.contains("Disable those modules first.")
            && refused.contains("TN021"),
        "{refused}"
    );
    // Refused: nothing of the form was saved.
    let tenant = tenant_over_rest(&server, &t.slug).await;
    assert_eq!(
        (tenant["plan"].as_str(), tenant["name"].as_str(), tenant["theme"].clone()),
        (Some("standard"), Some(t.slug.as_str()), json!({}))
    );

    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"goto": format!("/console/tenants/{}/edit", t.id)},
                {"fill": "input[name=name]", "value": "Renamed Ltd"},
                {"fill": "input[name='theme.primary']", "value": "#123456"},
                {"click": "button[type=submit]"},
                {"wait": "::-p-text(Renamed Ltd)"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let tenant = tenant_over_rest(&server, &t.slug).await;
    assert_eq!(
        (tenant["name"].as_str(), tenant["theme"].clone()),
        (Some("Renamed Ltd"), json!({"primary": "#123456"}))
    );
}

#[tokio::test]
async fn the_overview_charts_tenants_by_plan_and_module_adoption_as_the_api_counts_them() {
    let server = console::start().await;
    let out = browse(
        &server,
        then(
            sign_in_platform(&console::platform_account().await),
            json!([
                {"click": "a::-p-text(Overview)"},
                {"wait": "[aria-label='Module adoption'] [data-bar=Payroll]"},
                {"text": "[aria-label='Tenants by plan'] [data-bar=premium] .bar-value", "as": "premium"},
                {"text": "[aria-label='Module adoption'] [data-bar=Payroll] .bar-value", "as": "payroll"},
                {"screenshot": "platform-overview"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", server.api.url))
            .bearer_auth(api::platform_token())
            .header("Accept-Profile", "platform")
            .send()
    };
    let (_, stats) = json(get("/stats").await.unwrap()).await;
    let (_, payroll) = json(get("/modules?key=eq.payroll").await.unwrap()).await;
    // Other tests create tenants meanwhile: the page's counts are at most the later ones.
    let shown = |name: &str| out["values"][name].as_str().unwrap().parse::<i64>().unwrap();
    assert!(shown("premium") >= 1 && shown("premium") <= stats[0]["by_plan"]["premium"].as_i64().unwrap());
    assert!(shown("payroll") >= 2 && shown("payroll") <= payroll[0]["tenants_enabled"].as_i64().unwrap());
}

#[tokio::test]
async fn a_tenant_administrator_who_tampers_with_the_console_session_gets_no_platform_data() {
    let server = console::start().await;
    let db = superuser().await;
    let t = create_tenant(&db, "free", &[]).await;
    let email = tenancy_e2e::sign_in::new_email();
    tenancy_e2e::sign_in::member(&db, t.id, &email, "console password 2", &["tenant_admin"]).await;
    let tamper = "(() => { const s = JSON.parse(sessionStorage.getItem('tenancy.console.session')); \
                  s.kind = 'platform'; sessionStorage.setItem('tenancy.console.session', JSON.stringify(s)); return s.claims.role })()";
    let out = browse(
        &server,
        then(
            console::sign_in_tenant(&email, "console password 2"),
            json!([
                {"wait": "td.column-name::-p-text(Payroll)"},
                {"eval": tamper, "as": "role"},
                {"goto": "/console/tenants"},
                {"wait": "::-p-text(permission denied)"},
                {"eval": "document.body.innerText", "as": "page"},
                {"absent": "td.column-slug", "as": "no_list"},
            ]),
        ),
    )
    .await;
    assert_clean(&out);
    assert_eq!(out["values"]["role"], "tenant_member");
    let page = out["values"]["page"].as_str().unwrap();
    assert!(page.contains("42501") && !page.contains(&t.slug), "{page}");
    assert_eq!(out["values"]["no_list"], json!(true));
    let refused =
        out["responses"].as_array().unwrap().iter().filter(|r| r["path"].as_str().unwrap().starts_with("/tenants"));
    assert!(refused.clone().count() > 0 && refused.into_iter().all(|r| r["status"] == 403), "{}", out["responses"]);
}
