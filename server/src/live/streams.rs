//! What one client may hold of the live streams, and how long a stream may outlive its credential
//! (SPEC §6, §10, §11).
//!
//! - Open streams are counted in this process per holder and per shop, and capped at
//!   `MAX_STREAMS_PER_CLIENT` and `MAX_STREAMS_PER_SHOP`: a stream beyond either is refused (429,
//!   with `Retry-After`) before anything is read for it. The stream's body holds its [`Slot`],
//!   which gives the place back when the body is dropped, however the stream ends. Only holders and
//!   shops with an open stream are kept, so the counts take no memory once the streams are gone.
//! - The holder is the credential: an API token by its id; a session token or a development session
//!   by shop and staff member; an anonymous stream (of a shop open without a credential) by the
//!   client's address, or one shared place when the address is not known.
//! - A stream ends once its credential no longer opens the shop, re-checked with one read every
//!   [`RECHECK_EVERY`]: an API token when it is revoked; a session token when its shop is
//!   uninstalled (or deleted); a development session or an anonymous stream when the shop starts
//!   needing a token. The in-memory store has neither tokens nor installs, so nothing is re-checked
//!   there. A re-check that cannot read (the database away) leaves the stream open until the next.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::ApiError;
use crate::service::Tokens;
use crate::settings::LimitSettings;
use crate::store::StoreError;
use crate::trust::Credential;

/// How often an open stream checks that its credential still opens its shop: a revoked token's
/// stream ends within this (and the read it takes).
pub const RECHECK_EVERY: Duration = Duration::from_secs(25);

/// Who holds a stream, for the per-client cap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A Sync API token, by its id.
    Token(i64),
    /// A staff member of a shop (a session token, or the development sign-in).
    Staff { shop: String, staff: String },
    /// An anonymous client, by its address (`None`: not known, one place shared by all).
    Address(Option<IpAddr>),
}

impl Holder {
    /// The holder of a stream opened with `credential` from `address`.
    pub fn of(credential: &Credential, address: Option<IpAddr>) -> Holder {
        match credential {
            Credential::ApiToken { id, .. } => Holder::Token(*id),
            Credential::SessionToken(s) | Credential::Development(s) => Holder::Staff {
                shop: s.shop.to_ascii_lowercase(),
                staff: s.staff.clone(),
            },
            Credential::Anonymous => Holder::Address(address),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Holder::Token(_) => "this API token",
            Holder::Staff { .. } => "this staff member",
            Holder::Address(_) => "this client address",
        }
    }
}

/// What keeps a stream open, re-checked every [`RECHECK_EVERY`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The API token is not revoked.
    Token(i64),
    /// The shop is installed (a session token: the token itself expires in a minute, the stream
    /// lives as long as the install, SPEC §10).
    Installed(String),
    /// The shop still opens without a credential (a development session or an anonymous client).
    Open(String),
}

impl Standing {
    /// What keeps open a stream of `shop` opened with `credential`.
    pub fn of(credential: &Credential, shop: &str) -> Standing {
        match credential {
            Credential::ApiToken { id, .. } => Standing::Token(*id),
            Credential::SessionToken(_) => Standing::Installed(shop.to_owned()),
            Credential::Development(_) | Credential::Anonymous => Standing::Open(shop.to_owned()),
        }
    }

    /// Whether it still holds, read from PostgreSQL.
    async fn holds(&self, tokens: &Tokens) -> Result<bool, StoreError> {
        match self {
            Standing::Token(id) => tokens.token_active(*id).await,
            Standing::Installed(shop) => tokens.shop_installed(shop).await,
            Standing::Open(shop) => tokens.shop_requires_token(shop).await.map(|needs| !needs),
        }
    }

    /// Completes once the standing no longer holds, looking every `every`; never on the
    /// in-memory store (no `tokens`), which has nothing to say.
    pub async fn lapsed(self, tokens: Option<Tokens>, every: Duration) {
        let Some(tokens) = tokens else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(every).await;
            match self.holds(&tokens).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(standing = ?self, "a live stream's credential lapsed; ending it");
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "could not re-check a live stream's credential")
                }
            }
        }
    }
}

/// The stream places of this process: the caps, and who holds how many. Cheap to clone.
#[derive(Clone, Default)]
pub struct Streams {
    state: Arc<Mutex<State>>,
}

struct State {
    per_client: usize,
    per_shop: usize,
    recheck: Duration,
    by_holder: HashMap<Holder, usize>,
    by_shop: HashMap<String, usize>,
}

impl Default for State {
    fn default() -> Self {
        let limits = LimitSettings::default();
        State {
            per_client: limits.max_streams_per_client,
            per_shop: limits.max_streams_per_shop,
            recheck: RECHECK_EVERY,
            by_holder: HashMap::new(),
            by_shop: HashMap::new(),
        }
    }
}

/// One open stream's place; dropping it gives the place back.
pub struct Slot {
    streams: Streams,
    holder: Holder,
    shop: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.streams.state();
        release(&mut state.by_holder, &self.holder);
        release(&mut state.by_shop, &self.shop);
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

impl Streams {
    fn state(&self) -> MutexGuard<'_, State> {
        // Holders only add and take counts whole, so a poisoned lock still guards good counts.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the caps (`MAX_STREAMS_PER_CLIENT`, `MAX_STREAMS_PER_SHOP`); streams already open
    /// stay open.
    pub fn limit(&self, limits: &LimitSettings) {
        let mut state = self.state();
        state.per_client = limits.max_streams_per_client;
        state.per_shop = limits.max_streams_per_shop;
    }

    /// How often streams opened from now on re-check their credential ([`RECHECK_EVERY`]; tests
    /// shorten it).
    pub fn set_recheck_every(&self, every: Duration) {
        self.state().recheck = every;
    }

    /// See [`Streams::set_recheck_every`].
    pub fn recheck_every(&self) -> Duration {
        self.state().recheck
    }

    /// A place for one more stream of `shop` held by `holder`, or 429 when either is at its cap.
    pub fn admit(&self, holder: Holder, shop: &str) -> Result<Slot, ApiError> {
        let shop = shop.to_ascii_lowercase();
        let mut state = self.state();
        let held = state.by_holder.get(&holder).copied().unwrap_or(0);
        if held >= state.per_client {
            return Err(ApiError::TooManyStreams(format!(
                "{} already holds {held} live streams, the most it may hold at once; close one \
                 before opening another",
                holder.describe()
            )));
        }
        let of_shop = state.by_shop.get(&shop).copied().unwrap_or(0);
        if of_shop >= state.per_shop {
            return Err(ApiError::TooManyStreams(format!(
                "{shop} already has {of_shop} live streams open, the most it may have at once; \
                 use the polling fallback (Accept: application/json) or try again later"
            )));
        }
        *state.by_holder.entry(holder.clone()).or_insert(0) += 1;
        *state.by_shop.entry(shop.clone()).or_insert(0) += 1;
        Ok(Slot {
            streams: self.clone(),
            holder,
            shop,
        })
    }

    /// How many streams are open, and how many holders and shops the counts keep (for the tests
    /// and the logs).
    pub fn held(&self) -> (usize, usize, usize) {
        let state = self.state();
        (
            state.by_shop.values().sum(),
            state.by_holder.len(),
            state.by_shop.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: usize, per_shop: usize) -> LimitSettings {
        LimitSettings {
            max_streams_per_client: per_client,
            max_streams_per_shop: per_shop,
            ..LimitSettings::default()
        }
    }

    #[test]
    fn each_holder_and_each_shop_has_its_cap_and_a_dropped_slot_frees_its_place() {
        let streams = Streams::default();
        streams.limit(&limits(2, 3));
        let a = Holder::Token(1);
        let b = Holder::Address(None);
        let first = streams.admit(a.clone(), "acme.myshopify.com").unwrap();
        let _second = streams.admit(a.clone(), "acme.myshopify.com").unwrap();
        let e = streams
            .admit(a.clone(), "acme.myshopify.com")
            .err()
            .unwrap();
        assert_eq!(e.status_code(), 429);
        assert!(e.to_string().contains("this API token"), "{e}");
        let _third = streams.admit(b.clone(), "ACME.myshopify.com").unwrap();
        let e = streams
            .admit(b.clone(), "acme.myshopify.com")
            .err()
            .unwrap();
        assert!(e.to_string().contains("acme.myshopify.com"), "{e}");
        // Another shop has its own count.
        let _other = streams.admit(b.clone(), "other.myshopify.com").unwrap();
        drop(first);
        let _again = streams.admit(a, "acme.myshopify.com").unwrap();
        assert_eq!(streams.held(), (4, 2, 2));
    }

    #[test]
    fn nothing_is_kept_of_holders_and_shops_without_a_stream() {
        let streams = Streams::default();
        for n in 0..1000 {
            let ip = IpAddr::from([10, 0, (n / 256) as u8, (n % 256) as u8]);
            drop(
                streams
                    .admit(Holder::Address(Some(ip)), &format!("s{n}.myshopify.com"))
                    .unwrap(),
            );
        }
        assert_eq!(streams.held(), (0, 0, 0));
    }

    #[test]
    fn holders_are_the_token_the_staff_member_or_the_address() {
        use crate::trust::session::{Session, SignIn};
        let session = |method| Session {
            shop: "Acme.myshopify.com".into(),
            staff: "42".into(),
            method,
            exp: 0,
        };
        let token = Credential::ApiToken {
            id: 7,
            shop: "acme.myshopify.com".into(),
        };
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(Holder::of(&token, ip), Holder::Token(7));
        let staff = Holder::Staff {
            shop: "acme.myshopify.com".into(),
            staff: "42".into(),
        };
        assert_eq!(
            Holder::of(&Credential::SessionToken(session(SignIn::Shopify)), ip),
            staff
        );
        assert_eq!(
            Holder::of(&Credential::Development(session(SignIn::Development)), ip),
            staff
        );
        assert_eq!(Holder::of(&Credential::Anonymous, ip), Holder::Address(ip));
        assert_eq!(
            Standing::of(&token, "acme.myshopify.com"),
            Standing::Token(7)
        );
        assert_eq!(
            Standing::of(&Credential::Anonymous, "acme.myshopify.com"),
            Standing::Open("acme.myshopify.com".into())
        );
    }
}
