//! The dashboard's sign-in: Shopify's embedded-app session tokens (verified on every request) and
//! the development sign-in's cookie.
//!
//! - **Session token.** Shopify's admin hands the embedded app a JWT (`id_token` on the first load,
//!   or `Authorization: Bearer` from App Bridge), signed HS256 with the app's client secret. It is
//!   accepted when its signature verifies, its `alg` is HS256, `exp` is in the future and `nbf` in
//!   the past (5 s of leeway for clocks), `dest` names a `*.myshopify.com` shop, `iss` is that
//!   shop's admin, and `aud` is the app's client id (when `SHOPIFY_API_KEY` is set). `dest` gives
//!   the shop, `sub` the staff member.
//! - **Session cookie** (development only). `sync_session`: the shop, the staff member, how the
//!   session was opened and when it ends, signed HMAC-SHA256 with the session key; `HttpOnly`,
//!   `Secure`, `SameSite=Lax`. A cookie, not a row: signing in keeps working while the database is
//!   away and the dashboard shows sample data. The embedded app never uses it: browsers block
//!   third-party cookies in the admin's iframe, and Shopify asks for its session token on every
//!   request instead (`trust::access`).
//! - **Development sign-in.** `/auth/dev`, a form naming a shop and a staff member, for local use.
//!   It exists only while `SHOPIFY_API_SECRET` is unset; with it set, it is a 404.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use orders_core::query::parse_shop_domain;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::settings::TrustSettings;

type HmacSha256 = Hmac<Sha256>;

/// The cookie's name.
pub const COOKIE: &str = "sync_session";
/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Clock skew allowed on a session token's `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 5;

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignIn {
    Shopify,
    Development,
}

/// A signed-in staff member of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub shop: String,
    pub staff: String,
    pub method: SignIn,
    /// When the session ends, in Unix seconds.
    pub exp: i64,
}

/// The key that signs session cookies, and the app's Shopify credentials. The HMACs are keyed
/// once, at start-up, so a request only clones them.
pub struct SessionKeys {
    cookie_mac: HmacSha256,
    /// Keyed with the app's client secret, which signs session tokens.
    token_mac: Option<HmacSha256>,
    api_key: Option<String>,
}

/// HMAC-SHA256 keyed with `key` (it takes keys of any length): at start-up, and for the test
/// helper [`sign_session_token`]; a request only clones a keyed one.
fn keyed(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the app has no Shopify API secret configured")]
    NotConfigured,
    #[error("the session token is not a JWT")]
    Malformed,
    #[error("the session token is not signed with HS256")]
    Algorithm,
    #[error("the session token's signature does not verify")]
    Signature,
    #[error("the session token has expired")]
    Expired,
    #[error("the session token is not valid yet")]
    NotYetValid,
    #[error("the session token is for another app")]
    Audience,
    #[error("the session token does not name a shop: {0}")]
    Shop(String),
    #[error("the session token names no staff member")]
    Staff,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    dest: Option<String>,
    aud: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

impl SessionKeys {
    pub fn new(settings: &TrustSettings) -> Self {
        let cookie_key = match (&settings.session_secret, &settings.shopify_api_secret) {
            (Some(secret), _) => secret.as_bytes().to_vec(),
            (None, Some(api_secret)) => {
                let mut mac = keyed(api_secret.as_bytes());
                mac.update(b"orders-sync session cookies");
                mac.finalize().into_bytes().to_vec()
            }
            (None, None) => super::random_bytes::<32>()
                .expect("the operating system's random generator is available at start-up")
                .to_vec(),
        };
        SessionKeys {
            cookie_mac: keyed(&cookie_key),
            token_mac: settings
                .shopify_api_secret
                .as_ref()
                .map(|secret| keyed(secret.as_bytes())),
            api_key: settings.shopify_api_key.clone(),
        }
    }

    /// Whether the development sign-in is open: only without Shopify credentials.
    pub fn development_sign_in(&self) -> bool {
        self.token_mac.is_none()
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut mac = self.cookie_mac.clone();
        mac.update(data);
        mac
    }

    /// The cookie value of `session`.
    pub fn seal(&self, session: &Session) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(session).unwrap_or_default());
        let sig = URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// The session a cookie value holds, if its signature verifies and it has not ended.
    pub fn open(&self, value: &str, now: i64) -> Option<Session> {
        let (payload, sig) = value.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        self.mac(payload.as_bytes()).verify_slice(&sig).ok()?;
        let session: Session =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (session.exp > now).then_some(session)
    }

    /// The session of a request's cookie, if any.
    pub fn from_headers(&self, headers: &HeaderMap) -> Option<Session> {
        let now = chrono::Utc::now().timestamp();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE)
            .find_map(|(_, value)| self.open(value.trim(), now))
    }

    /// A `Set-Cookie` that opens `session` (`None` only if the sealed session were not a header
    /// value, which base64url and a dot always are).
    pub fn set_cookie(&self, session: &Session) -> Option<HeaderValue> {
        let same_site = match session.method {
            SignIn::Shopify => "SameSite=None; Partitioned",
            SignIn::Development => "SameSite=Lax",
        };
        let value = format!(
            "{COOKIE}={}; Path=/; Max-Age={}; HttpOnly; Secure; {same_site}",
            self.seal(session),
            SESSION_LIFETIME.as_secs()
        );
        HeaderValue::from_str(&value).ok()
    }

    /// A `Set-Cookie` that ends the session.
    pub fn clear_cookie() -> HeaderValue {
        HeaderValue::from_static("sync_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
    }

    /// Verifies a Shopify session token (see the module's documentation) and opens a session for
    /// its shop and staff member.
    pub fn verify_session_token(&self, jwt: &str, now: i64) -> Result<Session, TokenError> {
        let mut mac = self.token_mac.clone().ok_or(TokenError::NotConfigured)?;
        let mut parts = jwt.trim().split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: JwtHeader = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Algorithm);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenError::Malformed)?;
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        let exp = match claims.exp {
            Some(exp) if exp + LEEWAY_SECS > now => exp,
            _ => return Err(TokenError::Expired),
        };
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
            return Err(TokenError::NotYetValid);
        }
        if let Some(key) = &self.api_key {
            if claims.aud.as_deref() != Some(key.as_str()) {
                return Err(TokenError::Audience);
            }
        }
        let dest = claims.dest.unwrap_or_default();
        let host = dest.strip_prefix("https://").unwrap_or("");
        let shop = parse_shop_domain(host).map_err(TokenError::Shop)?;
        if !shop.ends_with(".myshopify.com") {
            return Err(TokenError::Shop(format!(
                "{shop} is not a myshopify.com shop"
            )));
        }
        let issuer = format!("https://{shop}/admin");
        if claims.iss.as_deref() != Some(issuer.as_str()) {
            return Err(TokenError::Shop(format!(
                "the issuer is not the admin of {shop}"
            )));
        }
        let staff = claims
            .sub
            .filter(|s| !s.trim().is_empty())
            .ok_or(TokenError::Staff)?;
        Ok(Session {
            shop,
            staff,
            method: SignIn::Shopify,
            exp,
        })
    }
}

/// Signs `claims` as Shopify would, with `secret`: for tests and the benchmarks.
pub fn sign_session_token(secret: &str, claims: &serde_json::Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let mut mac = keyed(secret.as_bytes());
    mac.update(format!("{h}.{p}").as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{p}.{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(secret: Option<&str>, key: Option<&str>) -> SessionKeys {
        SessionKeys::new(&TrustSettings {
            shopify_api_secret: secret.map(str::to_owned),
            shopify_api_key: key.map(str::to_owned),
            ..TrustSettings::default()
        })
    }

    fn claims(now: i64) -> serde_json::Value {
        json!({
            "iss": "https://acme.myshopify.com/admin",
            "dest": "https://acme.myshopify.com",
            "aud": "client-id",
            "sub": "42",
            "exp": now + 60,
            "nbf": now - 1,
            "iat": now - 1,
            "jti": "j",
            "sid": "s"
        })
    }

    #[test]
    fn a_shopify_session_token_opens_a_session_for_its_shop_and_staff() {
        let now = 1_800_000_000;
        let k = keys(Some("secret"), Some("client-id"));
        let jwt = sign_session_token("secret", &claims(now));
        let session = k.verify_session_token(&jwt, now).unwrap();
        assert_eq!(session.shop, "acme.myshopify.com");
        assert_eq!(session.staff, "42");
        assert_eq!(session.method, SignIn::Shopify);
    }

    #[test]
    fn session_tokens_that_must_be_refused() {
        let now = 1_800_000_000;
        let k = keys(Some("secret"), Some("client-id"));
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut c = claims(now);
            f(&mut c);
            k.verify_session_token(&sign_session_token("secret", &c), now)
        };
        assert_eq!(
            k.verify_session_token(&sign_session_token("other", &claims(now)), now),
            Err(TokenError::Signature)
        );
        assert_eq!(
            with(&|c| c["exp"] = json!(now - 10)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            with(&|c| c["nbf"] = json!(now + 60)),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            with(&|c| c["aud"] = json!("other")),
            Err(TokenError::Audience)
        );
        assert!(matches!(
            with(&|c| c["dest"] = json!("https://evil.example.com")),
            Err(TokenError::Shop(_))
        ));
        assert!(matches!(
            with(&|c| c["iss"] = json!("https://other.myshopify.com/admin")),
            Err(TokenError::Shop(_))
        ));
        assert_eq!(
            with(&|c| c
                .as_object_mut()
                .unwrap()
                .remove("sub")
                .map(|_| ())
                .unwrap()),
            Err(TokenError::Staff)
        );
        assert_eq!(
            k.verify_session_token("a.b", now),
            Err(TokenError::Malformed)
        );
        // `alg: none` with the signature stripped.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims(now).to_string())
        );
        assert_eq!(
            k.verify_session_token(&none, now),
            Err(TokenError::Algorithm)
        );
        // Without a configured secret nothing is accepted.
        assert_eq!(
            keys(None, None).verify_session_token(&sign_session_token("secret", &claims(now)), now),
            Err(TokenError::NotConfigured)
        );
    }

    #[test]
    fn cookies_open_only_with_their_signature_and_until_they_end() {
        let k = keys(None, None);
        let s = Session {
            shop: "acme.myshopify.com".into(),
            staff: "sam".into(),
            method: SignIn::Development,
            exp: 2_000,
        };
        let sealed = k.seal(&s);
        assert_eq!(k.open(&sealed, 1_000), Some(s.clone()));
        assert_eq!(k.open(&sealed, 2_000), None, "ended");
        let (payload, sig) = sealed.split_once('.').unwrap();
        let forged = Session {
            staff: "boss".into(),
            ..s.clone()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(k.open(&format!("{forged_payload}.{sig}"), 1_000), None);
        assert_eq!(keys(None, None).open(&sealed, 1_000), None, "another key");
        assert!(k.open(payload, 1_000).is_none());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={sealed}")).unwrap(),
        );
        // `from_headers` uses the clock: this session ended in 1970.
        assert_eq!(k.from_headers(&headers), None);
    }
}
