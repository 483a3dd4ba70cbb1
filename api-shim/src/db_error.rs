//! What a database error becomes over HTTP: its status by SQLSTATE, as PostgREST's
//! `mapSQLtoHTTP`, plus tenancy's class TN; its body, with the extension's structured DETAILs
//! read into fields a frontend can use (`module`, `upgrade`, `permission`, JSON reports).
use crate::error::{parts, Authenticated, Parts};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio_postgres::error::DbError;

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
        // The server shut down, crashed or is starting (a restart under load): try again.
        "57P01" | "57P02" | "57P03" => StatusCode::SERVICE_UNAVAILABLE,
        "TN001" => StatusCode::NOT_FOUND,
        "TN002" | "TN003" | "TN005" | "TN010" | "TN071" => StatusCode::FORBIDDEN,
        "TN004" => StatusCode::UNAUTHORIZED,
        // The tenant's state forbids it: disabling a module that is not enabled, activating or
        // deleting a tenant scheduled for deletion, restoring one that is not.
        "TN025" | "TN043" | "TN044" => StatusCode::CONFLICT,
        // `RAISE SQLSTATE 'PT402'`: a function's own status (500 for what is not one).
        _ if class == "PT" => code[2..]
            .parse()
            .ok()
            .and_then(|n| StatusCode::from_u16(n).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
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

/// The fields of a database error the response is made of.
struct Refusal<'a> {
    code: &'a str,
    message: &'a str,
    detail: Option<&'a str>,
    hint: Option<&'a str>,
}

pub(crate) fn response_parts(db: &DbError, authenticated: Authenticated) -> Parts {
    let refusal = Refusal { code: db.code().code(), message: db.message(), detail: db.detail(), hint: db.hint() };
    refusal_parts(&refusal, authenticated)
}

/// `RAISE SQLSTATE 'PGRST'`: the function writes the whole answer, as in PostgREST. MESSAGE is
/// the body (a JSON object: `code`, `message`, optional `details` and `hint`), DETAIL the status
/// and headers (`{"status": 332, "headers": {...}}`); 500 `PGRST121` when either is not that.
fn raised_answer(r: &Refusal) -> Parts {
    let unparsable = |details: String, hint: &str| {
        parts(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
        )
        .details(details)
        .hint(hint)
    };
    let message_hint =
        "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
    let detail_hint =
        "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let body: Option<Value> = serde_json::from_str(r.message).ok();
    let Some((code, message, body)) = body.and_then(|b| Some((text(&b, "code")?, text(&b, "message")?, b))) else {
        return unparsable(format!("Invalid JSON value for MESSAGE: '{}'", r.message), message_hint);
    };
    let Some(detail) = r.detail else {
        return unparsable("DETAIL is missing in the RAISE statement".into(), detail_hint);
    };
    let Some((status, headers)) = raised_status(detail) else {
        return unparsable(format!("Invalid JSON value for DETAIL: '{detail}'"), detail_hint);
    };
    let mut p = parts(status, &code, message);
    p.details = text(&body, "details").map(Value::String);
    p.hint = text(&body, "hint");
    p.headers = headers;
    p
}

/// A raised answer's DETAIL: `{"status": 332, "headers": {"X-Header": "str"}}`.
fn raised_status(detail: &str) -> Option<(StatusCode, Vec<(String, String)>)> {
    let detail: Value = serde_json::from_str(detail).ok()?;
    let status = StatusCode::from_u16(u16::try_from(detail.get("status")?.as_u64()?).ok()?).ok()?;
    let headers = detail.get("headers")?.as_object()?;
    Some((status, headers.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()))
}

/// The token's role is not a role of the database (`SET ROLE` says so as 22023): the token is
/// at fault, 401 as in PostgREST.
fn unknown_role(r: &Refusal) -> bool {
    r.code == "22023" && r.message.starts_with("role ") && r.message.ends_with(" does not exist")
}

fn refusal_parts(r: &Refusal, authenticated: Authenticated) -> Parts {
    if r.code == "PGRST" {
        return raised_answer(r);
    }
    let status = match unknown_role(r) {
        true => StatusCode::UNAUTHORIZED,
        false => status_for_sqlstate(r.code, authenticated),
    };
    if r.code == "57014" {
        return parts(status, r.code, "The statement ran longer than the server allows");
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return parts(status, r.code, "The database is not available");
    }
    if status.is_server_error() {
        return parts(status, r.code, "The database could not complete the request");
    }
    let mut p = parts(status, r.code, r.message);
    p.details = r.detail.map(|d| details(r.code, d));
    p.hint = r.hint.map(str::to_string);
    match r.code {
        "TN002" => for_end_users(&mut p, r),
        "TN010" => {
            let refusal = module_refusal(r.detail.unwrap_or_default());
            p.extra.insert("module".into(), json!(refusal.module));
            p.extra.insert("upgrade".into(), json!(refusal.upgrade));
            // Not a plan matter: an administrator can turn the module on as things stand.
            p.extra.insert("enable".into(), json!(!refusal.upgrade));
        }
        "TN071" => {
            // DETAIL "permission=<module>:<action>": which permission the user lacks.
            let pairs = detail_pairs(r.detail.unwrap_or_default());
            p.extra.insert("permission".into(), json!(pairs.get("permission").copied().unwrap_or_default()));
        }
        _ => {}
    }
    p
}

/// A TN error's DETAIL that is a JSON report (an array or an object, e.g. `TN042`'s per-item
/// report) goes out as JSON, not as JSON inside a string; any other DETAIL as text.
fn details(code: &str, detail: &str) -> Value {
    let structured = code.starts_with("TN") && matches!(detail.trim_start().chars().next(), Some('[' | '{'));
    match structured.then(|| serde_json::from_str::<Value>(detail).ok()).flatten() {
        Some(report @ (Value::Array(_) | Value::Object(_))) => report,
        _ => Value::String(detail.to_string()),
    }
}

/// A suspended tenant's users learn that, in their words; the database's message names the
/// tenant's slug and its hint tells the operator how to reactivate it: both go to the log.
fn for_end_users(p: &mut Parts, r: &Refusal) {
    p.message = "This organisation's account is suspended".into();
    p.details = None;
    p.hint = Some("Contact your organisation's administrator.".into());
    p.operator_note = Some(match r.hint {
        Some(hint) => format!("{} ({hint})", r.message),
        None => r.message.to_string(),
    });
}

/// The extension's DETAIL as `key=value` pairs separated by spaces (`module=library upgrade=false`).
fn detail_pairs(detail: &str) -> HashMap<&str, &str> {
    detail.split_whitespace().filter_map(|pair| pair.split_once('=')).collect()
}

#[derive(Debug, PartialEq)]
struct ModuleRefusal<'a> {
    module: &'a str,
    /// Only a higher plan would unlock the module (false: it can be enabled as things stand).
    upgrade: bool,
}

/// TN010's DETAIL: `module=<key> upgrade=<true|false>`, or the older `module=<key>`, which
/// meant an upgrade.
fn module_refusal(detail: &str) -> ModuleRefusal<'_> {
    let pairs = detail_pairs(detail);
    ModuleRefusal {
        module: pairs.get("module").copied().unwrap_or_default(),
        upgrade: pairs.get("upgrade").is_none_or(|u| *u != "false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<'a>(code: &'a str, message: &'a str, detail: Option<&'a str>, hint: Option<&'a str>) -> Parts {
        refusal_parts(&Refusal { code, message, detail, hint }, Authenticated::Yes)
    }

    #[test]
    fn a_raised_pgrst_error_is_the_answer_it_describes() {
        let message = r#"{"code":"123","message":"ABC","details":"DEF","hint":"XYZ"}"#;
        let p = refusal("PGRST", message, Some(r#"{"status":332,"headers":{"X-Header":"str"}}"#), None);
        assert_eq!((p.status.as_u16(), p.code.as_str(), p.message.as_str()), (332, "123", "ABC"));
        assert_eq!((p.details, p.hint), (Some(json!("DEF")), Some("XYZ".into())));
        assert_eq!(p.headers, vec![("X-Header".to_string(), "str".to_string())]);
        for (message, detail, why) in [
            ("INVALID", Some("{}"), "Invalid JSON value for MESSAGE: 'INVALID'"),
            (message, None, "DETAIL is missing in the RAISE statement"),
            (message, Some("INVALID"), "Invalid JSON value for DETAIL: 'INVALID'"),
        ] {
            let p = refusal("PGRST", message, detail, None);
            assert_eq!((p.status.as_u16(), p.code.as_str(), p.details), (500, "PGRST121", Some(json!(why))));
        }
    }

    #[test]
    fn a_pt_sqlstate_is_the_status_it_names() {
        assert_eq!(status_for_sqlstate("PT402", Authenticated::Yes), StatusCode::PAYMENT_REQUIRED);
        assert_eq!(status_for_sqlstate("PT40A", Authenticated::Yes), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status_for_sqlstate("PT999", Authenticated::Yes), StatusCode::from_u16(999).unwrap());
    }

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

    #[test]
    fn a_restarting_server_is_503_not_500() {
        for code in ["57P01", "57P02", "57P03"] {
            let p = refusal(code, "terminating connection due to administrator command", None, None);
            assert_eq!(
                (p.status, p.message.as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, "The database is not available")
            );
        }
        assert_eq!(status_for_sqlstate("57000", Authenticated::Yes), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn tenancys_newer_codes() {
        let s = |c| status_for_sqlstate(c, Authenticated::Yes);
        assert_eq!(s("TN025"), StatusCode::CONFLICT, "disabling a module that is not enabled");
        assert_eq!((s("TN043"), s("TN044")), (StatusCode::CONFLICT, StatusCode::CONFLICT), "deletion scheduled or not");
        assert_eq!(s("TN066"), StatusCode::BAD_REQUEST, "a smaller group size than the platform's");
        assert_eq!(s("TN067"), StatusCode::BAD_REQUEST, "a private column");
    }

    #[test]
    fn an_unknown_role_is_the_tokens_fault() {
        let p = refusal("22023", "role \"nobody\" does not exist", None, None);
        assert_eq!((p.status, p.message.as_str()), (StatusCode::UNAUTHORIZED, "role \"nobody\" does not exist"));
        let p = refusal("22023", "invalid value for parameter \"TimeZone\": \"x\"", None, None);
        assert_eq!(p.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn module_refusals_say_whether_an_upgrade_is_needed() {
        let parsed = |d| module_refusal(d);
        assert_eq!(parsed("module=library upgrade=false"), ModuleRefusal { module: "library", upgrade: false });
        assert_eq!(parsed("module=payroll upgrade=true"), ModuleRefusal { module: "payroll", upgrade: true });
        assert_eq!(parsed("upgrade=false module=library"), ModuleRefusal { module: "library", upgrade: false });
        assert_eq!(parsed("module=library"), ModuleRefusal { module: "library", upgrade: true }, "the older DETAIL");
        assert_eq!(parsed(""), ModuleRefusal { module: "", upgrade: true });

        let hint = "Ask the platform administrator to enable Library.";
        let p = refusal("TN010", "module \"library\" is not enabled", Some("module=library upgrade=false"), Some(hint));
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        assert_eq!(
            (&p.extra["module"], &p.extra["upgrade"], &p.extra["enable"], p.hint.as_deref()),
            (&json!("library"), &json!(false), &json!(true), Some(hint))
        );
        let p = refusal("TN010", "module \"payroll\" is not enabled", Some("module=payroll"), None);
        assert_eq!((&p.extra["upgrade"], &p.extra["enable"]), (&json!(true), &json!(false)));
    }

    #[test]
    fn json_reports_in_details_stay_json() {
        let report = r#"[{"index": 0, "slug": "a", "code": "TN020", "message": "taken"}]"#;
        let p = refusal("TN042", "2 of 3 tenants cannot be created", Some(report), None);
        assert_eq!(p.details, Some(serde_json::from_str::<Value>(report).unwrap()));
        let p = refusal("TN042", "x", Some(r#"{"failed": 1}"#), None);
        assert_eq!(p.details, Some(json!({"failed": 1})));
        for text in ["tenant id 7", "[not json", "\"a string\"", "42"] {
            assert_eq!(refusal("TN040", "x", Some(text), None).details, Some(json!(text)), "{text}");
        }
        assert_eq!(refusal("23505", "x", Some("[1]"), None).details, Some(json!("[1]")), "only tenancy's reports");
    }

    #[test]
    fn a_suspended_tenants_users_get_words_for_them_and_the_operator_the_hint() {
        let hint = "A platform administrator can reactivate it with tenancy.activate_tenant.";
        let p = refusal("TN002", "tenant \"acme\" is suspended", Some("tenant id 7"), Some(hint));
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        assert_eq!(p.message, "This organisation's account is suspended");
        assert_eq!(p.hint.as_deref(), Some("Contact your organisation's administrator."));
        assert_eq!(p.details, None);
        let note = p.operator_note.unwrap();
        assert!(note.contains("tenant \"acme\" is suspended") && note.contains("activate_tenant"), "{note}");
    }
}
