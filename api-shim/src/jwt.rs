//! A bearer token checked as PostgREST checks it, step by step so that each refusal has
//! PostgREST's code and message: three parts; a header naming an algorithm the key takes; the
//! key (the HS256 secret, or the JWK its `kid` names); the signature; then the claims —
//! `exp`, `nbf` and `iat` must be numbers when present (30 s of leeway) and `aud` a string or
//! strings, one of them the configured audience. `jsonwebtoken` does the cryptography only.
use crate::config::JwtSecret;
use crate::error::JwtError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use std::str::FromStr;

const LEEWAY_SECONDS: i64 = 30;

/// The claims of `token` once it is proven to be signed by the configured key and valid at
/// `now` (seconds since the epoch) for `audience`.
pub fn verify(
    secret: &JwtSecret,
    token: &str,
    audience: Option<&str>,
    now: i64,
) -> Result<Map<String, Value>, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    let [header, payload, signature] = three_parts(token)?;
    let header = TokenHeader::decode(header)?;
    let (key, algorithms) = key_for(secret, &header)?;
    let algorithm = Algorithm::from_str(&header.alg)
        .ok()
        .filter(|a| algorithms.contains(a))
        .ok_or_else(|| JwtError::BadAlgorithm(bad_algorithm(&header.alg, algorithms)))?;
    let signed = &token[..header_and_payload_len(token)];
    // The algorithm is one of the key's family, so `verify` never mixes a secret with a public key.
    let genuine = jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, algorithm)
        .map_err(|_| JwtError::Undecodable)?;
    if !genuine {
        return Err(JwtError::NoKey("None of the keys was able to decode the JWT".into()));
    }
    let claims = match serde_json::from_slice(&base64url(payload)?) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err(JwtError::ClaimsNotObject),
    };
    check_claims(&claims, audience, now)?;
    Ok(claims)
}

/// The `kid` of a token's header, if it has one (before anything is verified: it only picks
/// the key).
pub fn kid(token: &str) -> Option<String> {
    TokenHeader::decode(token.split('.').next()?).ok()?.kid
}

fn three_parts(token: &str) -> Result<[&str; 3], JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    <[&str; 3]>::try_from(parts).map_err(|parts| JwtError::Parts(parts.len()))
}

/// `header.payload`: what the signature signs.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn base64url(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Undecodable)
}

/// What the header says of how the token was signed.
struct TokenHeader {
    alg: String,
    kid: Option<String>,
}

impl TokenHeader {
    fn decode(part: &str) -> Result<TokenHeader, JwtError> {
        let header: Value = serde_json::from_slice(&base64url(part)?).map_err(|_| JwtError::Undecodable)?;
        let alg = header.get("alg").and_then(Value::as_str).ok_or(JwtError::Undecodable)?.to_string();
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_string);
        Ok(TokenHeader { alg, kid })
    }
}

fn bad_algorithm(alg: &str, algorithms: &[Algorithm]) -> String {
    if alg.eq_ignore_ascii_case("none") {
        return "JWT is unsecured but expected 'alg' was not 'none'".into();
    }
    let accepted: Vec<String> = algorithms.iter().map(|a| format!("{a:?}")).collect();
    format!("The key takes {}, not '{alg}'", accepted.join(", "))
}

const HMAC: &[Algorithm] = &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
const RSA: &[Algorithm] = &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];
const ED: &[Algorithm] = &[Algorithm::EdDSA];

/// The key that must have signed the token, and the algorithms that key allows: the secret
/// (HS256), or the JWK named by the token's `kid` (the set's only key when there is no kid),
/// with the algorithms of its key type, so an HS256 token can never pass as signed by a
/// public key.
fn key_for(secret: &JwtSecret, header: &TokenHeader) -> Result<(DecodingKey, &'static [Algorithm]), JwtError> {
    match secret {
        JwtSecret::Hs256(secret) => Ok((DecodingKey::from_secret(secret.as_bytes()), &HMAC[..1])),
        JwtSecret::Jwks(set) => {
            let jwk: &Jwk = match &header.kid {
                Some(kid) => set.find(kid),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            }
            .ok_or_else(|| {
                JwtError::NoKey(match &header.kid {
                    Some(kid) => format!("No key has the kid \"{kid}\""),
                    None => "The token names no kid and there are several keys".into(),
                })
            })?;
            let algorithms = match jwk.algorithm {
                AlgorithmParameters::RSA(_) => RSA,
                AlgorithmParameters::EllipticCurve(_) => EC,
                AlgorithmParameters::OctetKeyPair(_) => ED,
                AlgorithmParameters::OctetKey(_) => HMAC,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| JwtError::NoKey(format!("The key is not usable: {e}")))?;
            Ok((key, algorithms))
        }
    }
}

/// PostgREST's claim checks, in its order: the first that fails is the answer.
fn check_claims(claims: &Map<String, Value>, audience: Option<&str>, now: i64) -> Result<(), JwtError> {
    if time_claim(claims, "exp")?.is_some_and(|exp| exp < now - LEEWAY_SECONDS) {
        return Err(JwtError::Expired);
    }
    if time_claim(claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
        return Err(JwtError::NotYetValid);
    }
    if time_claim(claims, "iat")?.is_some_and(|iat| iat > now + LEEWAY_SECONDS) {
        return Err(JwtError::IssuedInFuture);
    }
    let audiences = match claims.get("aud") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => {
            items.iter().map(Value::as_str).collect::<Option<Vec<_>>>().ok_or(JwtError::AudienceNotStrings)?
        }
        Some(_) => return Err(JwtError::AudienceNotStrings),
    };
    // As PostgREST: without a configured audience any is accepted, and so is an empty list.
    let accepted = audience.is_none_or(|wanted| audiences.is_empty() || audiences.contains(&wanted));
    if !accepted {
        return Err(JwtError::NotInAudience);
    }
    Ok(())
}

/// A time claim in seconds: absent (or null), or a number; anything else is an error, not
/// a claim to ignore (`"exp": "never"` must not mean a token that never expires).
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.as_i64().unwrap_or_else(|| n.as_f64().map_or(0, |f| f.floor() as i64)))),
        Some(_) => Err(JwtError::NotNumber(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret";
    const NOW: i64 = 1_800_000_000;

    fn secret() -> JwtSecret {
        JwtSecret::Hs256(SECRET.into())
    }

    fn token(claims: Value) -> String {
        encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
    }

    fn check(token: &str) -> Result<Map<String, Value>, JwtError> {
        verify(&secret(), token, None, NOW)
    }

    /// A token of `header` and `payload` (JSON texts), signed with the secret.
    fn hand_made(header: &str, payload: &str) -> String {
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{signature}")
    }

    #[test]
    fn a_genuine_token_gives_its_claims() {
        let claims = check(&token(json!({"role": "r", "exp": NOW + 60, "nbf": NOW, "iat": NOW}))).unwrap();
        assert_eq!(claims["role"], "r");
    }

    #[test]
    fn time_claims_must_be_numbers() {
        for claim in ["exp", "nbf", "iat"] {
            for bad in [json!("never"), json!(true), json!([1]), json!({"t": 1})] {
                let t = token(json!({"role": "r", claim: bad}));
                assert_eq!(check(&t).unwrap_err(), JwtError::NotNumber(claim), "{claim}: {bad}");
            }
        }
        assert!(check(&token(json!({"role": "r", "exp": null}))).is_ok(), "null is absent");
        assert!(check(&token(json!({"role": "r", "exp": (NOW + 60) as f64 + 0.5}))).is_ok(), "a float is a number");
    }

    #[test]
    fn times_with_30_seconds_of_leeway() {
        let at = |claims: Value| check(&token(claims));
        assert!(at(json!({"exp": NOW - 29})).is_ok());
        assert_eq!(at(json!({"exp": NOW - 31})).unwrap_err(), JwtError::Expired);
        assert!(at(json!({"nbf": NOW + 29})).is_ok());
        assert_eq!(at(json!({"nbf": NOW + 31})).unwrap_err(), JwtError::NotYetValid);
        assert_eq!(at(json!({"iat": NOW + 31})).unwrap_err(), JwtError::IssuedInFuture);
        assert_eq!(at(json!({"exp": NOW - 31, "nbf": "x"})).unwrap_err(), JwtError::Expired, "exp is checked first");
    }

    #[test]
    fn audiences_like_postgrest() {
        let aud = |claim: Value, wanted: Option<&str>| verify(&secret(), &token(json!({"aud": claim})), wanted, NOW);
        assert!(aud(json!("api"), Some("api")).is_ok());
        assert!(aud(json!(["x", "api"]), Some("api")).is_ok());
        assert!(aud(json!([]), Some("api")).is_ok());
        assert!(aud(json!("elsewhere"), None).is_ok(), "no audience configured: any");
        assert_eq!(aud(json!("elsewhere"), Some("api")).unwrap_err(), JwtError::NotInAudience);
        assert_eq!(aud(json!(["x", 1]), None).unwrap_err(), JwtError::AudienceNotStrings);
        assert_eq!(aud(json!({"a": 1}), Some("api")).unwrap_err(), JwtError::AudienceNotStrings);
    }

    #[test]
    fn malformed_tokens() {
        assert_eq!(check("").unwrap_err(), JwtError::Empty);
        assert_eq!(check("a.b").unwrap_err(), JwtError::Parts(2));
        assert_eq!(check("a.b.c.d").unwrap_err(), JwtError::Parts(4));
        assert_eq!(check("quifquirndsjagnrgniur.fonvoienqhhdj.iuqvnvhojah").unwrap_err(), JwtError::Undecodable);
        let good = token(json!({"role": "r"}));
        let (signed, _) = good.rsplit_once('.').unwrap();
        let swapped_payload = format!("{}.e30.{}", signed.split('.').next().unwrap(), good.rsplit('.').next().unwrap());
        assert_eq!(
            check(&swapped_payload).unwrap_err(),
            JwtError::NoKey("None of the keys was able to decode the JWT".into())
        );
        assert_eq!(check(&hand_made(r#"{"alg":"HS256"}"#, "[1, 2]")).unwrap_err(), JwtError::ClaimsNotObject);
        assert_eq!(check(&hand_made(r#"{"typ":"JWT"}"#, "{}")).unwrap_err(), JwtError::Undecodable, "no alg");
    }

    #[test]
    fn forged_tokens() {
        let other =
            encode(&Header::default(), &json!({"role": "r"}), &EncodingKey::from_secret(b"another-secret-1234"))
                .unwrap();
        assert_eq!(check(&other).unwrap_err(), JwtError::NoKey("None of the keys was able to decode the JWT".into()));
        // alg none, claiming to be the superuser
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoicG9zdGdyZXMifQ.";
        assert_eq!(
            check(none).unwrap_err(),
            JwtError::BadAlgorithm("JWT is unsecured but expected 'alg' was not 'none'".into())
        );
        let hs512 = encode(&Header::new(Algorithm::HS512), &json!({}), &EncodingKey::from_secret(SECRET.as_bytes()));
        assert!(matches!(check(&hs512.unwrap()).unwrap_err(), JwtError::BadAlgorithm(why) if why.contains("HS256")));
    }
}
