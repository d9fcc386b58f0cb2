//! Secrets at rest (SPEC §10, §11): shops' access tokens, refresh tokens and webhook secrets are
//! stored encrypted with AES-256-GCM under `SECRETS_KEY` (32 random bytes, base64).
//!
//! - A stored value is `enc:v1:` and the base64 of a fresh 96-bit nonce followed by the
//!   ciphertext and its tag. The column's name (`shops.access_token`, …) is bound as associated
//!   data, so a ciphertext copied into another column does not open.
//! - Without a key (development only: `SHOPIFY_API_SECRET` requires one), values are stored as
//!   they are, and `serve` warns at start-up.
//! - Plaintext stored before the key was configured is encrypted at the first start with it
//!   ([`crate::store::PgStore::encrypt_plaintext_secrets`]). The CLI reads the same key.
//! - A ciphertext met without a key, or that does not open under the key, is an error that names
//!   `SECRETS_KEY`: never used as if it were the secret.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// What every encrypted value starts with.
pub const PREFIX: &str = "enc:v1:";

/// The columns that hold secrets, each its own associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    AccessToken,
    RefreshToken,
    WebhookSecret,
    PreviousWebhookSecret,
}

impl Column {
    pub const ALL: [Column; 4] = [
        Column::AccessToken,
        Column::RefreshToken,
        Column::WebhookSecret,
        Column::PreviousWebhookSecret,
    ];

    /// The column of `shops`.
    pub fn name(self) -> &'static str {
        match self {
            Column::AccessToken => "access_token",
            Column::RefreshToken => "refresh_token",
            Column::WebhookSecret => "webhook_secret",
            Column::PreviousWebhookSecret => "previous_webhook_secret",
        }
    }
}

/// Why a stored secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a stored secret is encrypted, but SECRETS_KEY is not set")]
    NoKey,
    #[error("a stored secret does not decrypt under SECRETS_KEY (another key, or damaged)")]
    Undecryptable,
    #[error("a secret could not be encrypted: {0}")]
    Unsealable(String),
}

/// The cipher, or its absence; cheap to clone.
#[derive(Clone, Default)]
pub struct Secrets {
    cipher: Option<Arc<Aes256Gcm>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.cipher.is_some() {
            "Secrets(AES-256-GCM)"
        } else {
            "Secrets(plaintext)"
        })
    }
}

impl Secrets {
    /// No key: values are stored as they are.
    pub fn plaintext() -> Self {
        Secrets { cipher: None }
    }

    /// The key of `SECRETS_KEY`: 32 bytes, base64 (standard or URL-safe, padded or not).
    pub fn from_base64(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let bytes = STANDARD
            .decode(raw)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(raw))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
            .context("SECRETS_KEY is not base64 (make one with: openssl rand -base64 32)")?;
        if bytes.len() != 32 {
            bail!(
                "SECRETS_KEY must be 32 bytes, base64 (it is {} bytes; make one with: openssl rand -base64 32)",
                bytes.len()
            );
        }
        let key = Key::<Aes256Gcm>::from_slice(&bytes);
        Ok(Secrets {
            cipher: Some(Arc::new(Aes256Gcm::new(key))),
        })
    }

    /// Whether a key is configured.
    pub fn encrypts(&self) -> bool {
        self.cipher.is_some()
    }

    /// The stored form of `plain` for `column`: ciphertext with a key, `plain` itself without.
    pub fn seal(&self, column: Column, plain: &str) -> Result<String, SecretError> {
        let Some(cipher) = &self.cipher else {
            return Ok(plain.to_owned());
        };
        let nonce_bytes = crate::trust::random_bytes::<12>()
            .map_err(|e| SecretError::Unsealable(format!("no random nonce ({e})")))?;
        let nonce = Nonce::from_slice(&nonce_bytes);
        let sealed = cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: column.name().as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unsealable("AES-GCM refused the message".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// The secret a stored value of `column` holds.
    pub fn open(&self, column: Column, stored: &str) -> Result<String, SecretError> {
        let Some(body) = stored.strip_prefix(PREFIX) else {
            // Plaintext from before the key (encrypted at the next start), or development.
            return Ok(stored.to_owned());
        };
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: column.name().as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }

    /// Whether a stored value is still plaintext that this key should encrypt.
    pub fn needs_sealing(&self, stored: &str) -> bool {
        self.encrypts() && !stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secrets {
        Secrets::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_under_its_key_and_column_only() {
        let k = key();
        let sealed = k.seal(Column::AccessToken, "shpat_123").unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("shpat_123"));
        assert_ne!(
            sealed,
            k.seal(Column::AccessToken, "shpat_123").unwrap(),
            "fresh nonce"
        );
        assert_eq!(k.open(Column::AccessToken, &sealed).unwrap(), "shpat_123");
        assert_eq!(
            k.open(Column::RefreshToken, &sealed),
            Err(SecretError::Undecryptable),
            "another column"
        );
        let other = Secrets::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert_eq!(
            other.open(Column::AccessToken, &sealed),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(
            Secrets::plaintext().open(Column::AccessToken, &sealed),
            Err(SecretError::NoKey)
        );
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push('A');
        assert!(k.open(Column::AccessToken, &damaged).is_err());
    }

    #[test]
    fn plaintext_passes_through_and_is_marked_for_sealing_under_a_key() {
        let k = key();
        assert_eq!(k.open(Column::WebhookSecret, "old").unwrap(), "old");
        assert!(k.needs_sealing("old"));
        assert!(!k.needs_sealing(&k.seal(Column::WebhookSecret, "old").unwrap()));
        let none = Secrets::plaintext();
        assert_eq!(none.seal(Column::WebhookSecret, "s").unwrap(), "s");
        assert!(!none.needs_sealing("s"));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(Secrets::from_base64("not base64!").is_err());
        assert!(Secrets::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(Secrets::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
    }
}
