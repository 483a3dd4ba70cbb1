//! The signing keys of sign-in: a JWK set file of private P-256 keys (ES256), oldest first.
//! The newest signs; every key in the file verifies, so tokens signed before a rotation stay
//! valid until they expire. `tenancy-api keys generate|rotate FILE` writes it (mode 0600).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use p256::pkcs8::EncodePrivateKey;
use p256::SecretKey;
use rand::RngCore;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use std::path::Path;

pub struct SigningKey {
    pub kid: String,
    /// When the key was made (seconds since the epoch): it retires its predecessor then.
    pub created: u64,
    secret: SecretKey,
    /// Parsed once: parsing derives the public key, which costs as much as a signature
    /// (jsonwebtoken 9 parses its key on every signature).
    pair: EcdsaKeyPair,
    /// `{"typ":"JWT","alg":"ES256","kid":…}` in base64url, the same for every token of the key.
    header: String,
}

pub struct SigningKeys {
    /// Oldest first; never empty.
    keys: Vec<SigningKey>,
    /// The public halves, as the REST side verifies them.
    verifying: crate::config::JwtSecret,
}

impl std::fmt::Debug for SigningKeys {
    // Never the private keys, not even in a debug dump of the configuration.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("SigningKeys").field("kids", &kids).finish()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl SigningKey {
    fn new(kid: String, created: u64, secret: SecretKey) -> Result<SigningKey, String> {
        let der = secret.to_pkcs8_der().map_err(|e| format!("key {kid}: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_bytes(), &SystemRandom::new())
            .map_err(|e| format!("key {kid}: {e}"))?;
        let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "ES256", "kid": kid}).to_string());
        Ok(SigningKey { pair, header, kid, created, secret })
    }

    fn generate() -> SigningKey {
        let secret = loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            // All but a negligible share of 32-byte strings are valid scalars.
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let kid = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
        SigningKey::new(kid, now(), secret).expect("a fresh P-256 key encodes")
    }

    /// The public JWK (what `/.well-known/jwks.json` publishes).
    pub fn public_jwk(&self) -> Value {
        let point = self.secret.public_key().to_jwk();
        let mut jwk = serde_json::to_value(point).expect("a JWK serializes");
        jwk["kid"] = self.kid.clone().into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        jwk["key_ops"] = json!(["verify"]);
        jwk
    }

    fn private_jwk(&self) -> Value {
        let mut jwk = self.public_jwk();
        jwk["d"] = URL_SAFE_NO_PAD.encode(self.secret.to_bytes()).into();
        jwk["key_ops"] = json!(["sign", "verify"]);
        jwk["created"] = self.created.into();
        jwk
    }

    fn from_private_jwk(jwk: &Value) -> Result<SigningKey, String> {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or(format!("a key without \"{name}\""));
        let kid = field("kid")?.to_string();
        if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
            return Err(format!("key {kid}: not a P-256 key"));
        }
        let d = URL_SAFE_NO_PAD.decode(field("d")?).map_err(|_| format!("key {kid}: \"d\" is not base64url"))?;
        let secret = SecretKey::from_slice(&d).map_err(|_| format!("key {kid}: \"d\" is not a P-256 key"))?;
        let created = jwk.get("created").and_then(Value::as_u64).unwrap_or(0);
        SigningKey::new(kid, created, secret)
    }
}

impl SigningKeys {
    fn from_keys(keys: Vec<SigningKey>) -> SigningKeys {
        let set = json!({"keys": keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>()});
        let set: JwkSet = serde_json::from_value(set).expect("our public keys are JWKs");
        SigningKeys { keys, verifying: crate::config::JwtSecret::Jwks(set) }
    }

    pub fn read(path: &Path) -> Result<SigningKeys, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON ({e})", path.display()))?;
        let keys = file
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(format!("{}: not a JWK set", path.display()))?
            .iter()
            .map(SigningKey::from_private_jwk)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(format!("{}: no keys", path.display()));
        }
        Ok(SigningKeys::from_keys(keys))
    }

    /// A file with one new key.
    pub fn generate() -> SigningKeys {
        SigningKeys::from_keys(vec![SigningKey::generate()])
    }

    /// A new key signs from now on; the keys retired more than `keep_seconds` ago (longer than
    /// any token they signed lives) are dropped.
    pub fn rotate(self, keep_seconds: u64) -> SigningKeys {
        let mut keys = self.keys;
        keys.push(SigningKey::generate());
        let retired_at: Vec<u64> = keys.iter().skip(1).map(|k| k.created).collect();
        let mut index = 0;
        keys.retain(|_| {
            let keep = retired_at.get(index).is_none_or(|&at| now().saturating_sub(at) < keep_seconds);
            index += 1;
            keep
        });
        SigningKeys::from_keys(keys)
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let set = json!({"keys": self.keys.iter().map(SigningKey::private_jwk).collect::<Vec<_>>()});
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(serde_json::to_string_pretty(&set).expect("JSON").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(tmp, path)
    }

    fn newest(&self) -> &SigningKey {
        self.keys.last().expect("never empty")
    }

    /// The kid of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.newest().kid
    }

    /// A JWS (compact, ES256) of `payload` by the newest key.
    pub fn sign(&self, payload: &[u8]) -> String {
        let key = self.newest();
        let mut jws = format!("{}.{}", key.header, URL_SAFE_NO_PAD.encode(payload));
        let signature =
            key.pair.sign(&SystemRandom::new(), jws.as_bytes()).expect("ES256 signing with a parsed key cannot fail");
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        jws
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    pub fn public_set(&self) -> Value {
        json!({"keys": self.keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>()})
    }

    /// The public keys as the token verifier takes them.
    pub fn verifying(&self) -> &crate::config::JwtSecret {
        &self.verifying
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_and_rotation_keeps_the_recent_keys() {
        let path = std::env::temp_dir().join(format!("tenancy-keys-{}.json", uuid::Uuid::new_v4()));
        let keys = SigningKeys::generate();
        keys.write(&path).unwrap();
        let first = keys.signing_kid().to_string();
        let read = SigningKeys::read(&path).unwrap();
        assert_eq!(read.signing_kid(), first);
        let rotated = read.rotate(3600);
        assert_eq!(rotated.kids().count(), 2, "the old key verifies until its tokens expire");
        assert_ne!(rotated.signing_kid(), first, "the new key signs");
        let rotated = rotated.rotate(0);
        assert_eq!(rotated.kids().count(), 1, "keys retired longer ago than tokens live are dropped");
        assert!(rotated.public_set()["keys"][0].get("d").is_none(), "the public set has no private part");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_signed_token_verifies_with_the_public_set_and_a_tampered_one_does_not() {
        let keys = SigningKeys::generate().rotate(3600);
        let token = keys.sign(br#"{"sub":"someone","exp":4102444800}"#);
        assert_eq!(crate::jwt::kid(&token).as_deref(), Some(keys.signing_kid()));
        let claims = crate::jwt::verify(keys.verifying(), &token, None, 0).expect("a genuine token");
        assert_eq!(claims["sub"], "someone");
        let [header, _, signature] = <[&str; 3]>::try_from(token.split('.').collect::<Vec<_>>()).unwrap();
        let forged = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":4102444800}"#));
        assert!(crate::jwt::verify(keys.verifying(), &forged, None, 0).is_err(), "another payload, same signature");
    }
}
