//! Shopify's webhook signature: HMAC-SHA256 of the raw body under the shop's webhook secret,
//! base64-encoded, in `X-Shopify-Hmac-Sha256`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The signature Shopify sends for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is the signature of `body` under `secret`. The comparison takes the same time
/// whatever the header holds, so it leaks nothing about the expected value.
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(claimed) = STANDARD.decode(header.trim()) else {
        return false;
    };
    // HMAC takes keys of any length; were one refused, nothing would verify.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&claimed).is_ok()
}

/// Whether `header` signs `body` under any of `secrets` (the current one, and the previous one
/// during a rotation). Every secret is tried, so the time taken does not tell which matched.
pub fn verify_any(secrets: &[String], body: &[u8], header: &str) -> bool {
    secrets
        .iter()
        .fold(false, |ok, secret| verify(secret, body, header) | ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_vector_matches() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
        assert!(verify("Jefe", b"what do ya want for nothing?", &sig));
    }

    #[test]
    fn the_wrong_secret_body_or_encoding_fails() {
        let body = br#"{"id":1,"note":"a\/b"}"#;
        let sig = sign("s3cret", body);
        assert!(verify("s3cret", body, &sig));
        assert!(!verify("other", body, &sig));
        assert!(!verify("s3cret", br#"{"id":1,"note":"a/b"}"#, &sig));
        assert!(!verify("s3cret", body, "not base64!"));
        assert!(!verify("s3cret", body, ""));
    }

    #[test]
    fn either_secret_of_a_rotation_verifies() {
        let body = b"{}";
        let secrets = vec!["new".to_owned(), "old".to_owned()];
        assert!(verify_any(&secrets, body, &sign("old", body)));
        assert!(verify_any(&secrets, body, &sign("new", body)));
        assert!(!verify_any(&secrets, body, &sign("older", body)));
        assert!(!verify_any(&[], body, &sign("new", body)));
    }
}
