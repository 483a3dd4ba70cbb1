//! Sends a case's request as hspec-wai does: the method, the path as written, the case's
//! headers and nothing else that matters (reqwest adds `Accept: */*`, which PostgREST reads as
//! no preference), the body as is.
use super::case::{Case, Token};
use super::expect::Answer;
use reqwest::Method;

pub async fn send(http: &reqwest::Client, base_url: &str, case: &Case) -> Answer {
    let method = Method::from_bytes(case.method.as_bytes()).unwrap_or_else(|_| panic!("{}: method", case.spec));
    // hspec-wai accepts a path without its leading slash (`get "tsearch?..."`).
    let slash = if case.path.starts_with('/') { "" } else { "/" };
    // hspec-wai hands `#` to the server as part of the query; over HTTP it would end the URL.
    let path = case.path.replace('#', "%23");
    let mut request = http.request(method, format!("{base_url}{slash}{path}"));
    for (name, value) in &case.headers {
        request = request.header(name, value);
    }
    if let Some(token) = &case.token {
        request = request.bearer_auth(sign(token));
    }
    if let Some(body) = &case.body {
        request = request.body(body.clone());
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{}: no answer: {e}", case.spec));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Answer { status, headers, body }
}

/// The secret PostgREST's spec signs its tokens with.
pub const SPEC_JWT_SECRET: &str = "reallyreallyreallyreallyverysafe";

fn sign(token: &Token) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut claims = token.claims.clone();
    for (name, seconds) in &token.seconds_from_now {
        claims.insert(name.clone(), (now + seconds).into());
    }
    let secret = token.secret.as_deref().unwrap_or(SPEC_JWT_SECRET);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}
