//! The signing keys of sign-in: a JWK set file of private P-256 keys (ES256), oldest first.
//! The newest signs; every key in the file verifies, so tokens signed before a rotation stay
//! valid until they expire. `tenancy-api keys generate|rotate FILE` writes it (mode 0600).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{jwk::JwkSet, EncodingKey};
use p256::pkcs8::EncodePrivateKey;
use p256::SecretKey;
use rand::RngCore;
use serde_json::{json, Value};
use std::path::Path;

pub struct SigningKey {
    pub kid: String,
    /// When the key was made (seconds since the epoch): it retires its predecessor then.
    pub created: u64,
    secret: SecretKey,
    encoding: EncodingKey,
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
        Ok(SigningKey { encoding: EncodingKey::from_ec_der(der.as_bytes()), kid, created, secret })
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

    pub fn newest(&self) -> (&str, &EncodingKey) {
        let key = self.keys.last().expect("never empty");
        (&key.kid, &key.encoding)
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
        let first = keys.newest().0.to_string();
        let read = SigningKeys::read(&path).unwrap();
        assert_eq!(read.newest().0, first);
        let rotated = read.rotate(3600);
        assert_eq!(rotated.kids().count(), 2, "the old key verifies until its tokens expire");
        assert_ne!(rotated.newest().0, first, "the new key signs");
        let rotated = rotated.rotate(0);
        assert_eq!(rotated.kids().count(), 1, "keys retired longer ago than tokens live are dropped");
        assert!(rotated.public_set()["keys"][0].get("d").is_none(), "the public set has no private part");
        std::fs::remove_file(&path).unwrap();
    }
}
