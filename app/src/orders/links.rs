//! The page's URLs inside and outside Shopify's admin: the admin's parameters a link keeps
//! ([`Embedding`]), which of the URL's parameters the server function is given, and the small
//! query-string helpers every link of the page is built with.

use serde_tuple::{Deserialize_tuple, Serialize_tuple};

/// Where Shopify's admin frames the page (SPEC §10): the `host` and `embedded` parameters it gives
/// the app's URL. Every link and form of the page keeps them as the URL gave them, so a click
/// before hydration or a reload stays inside the app. They are for links only: the read API and
/// the server function never see them. A page outside the admin has neither, and its links grow
/// none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Embedding {
    /// The admin's host, base64, as Shopify gave it.
    pub host: Option<String>,
    /// `1` inside the admin.
    pub embedded: Option<String>,
    /// The admin's language (`locale=`), which the server formats amounts in; kept so that the
    /// next page speaks it too.
    pub locale: Option<String>,
}

impl Embedding {
    /// Reads `host` and `embedded` through `param` (the page URL's query); an empty one is absent.
    pub fn from_url(param: impl Fn(&str) -> Option<String>) -> Self {
        let given = |name: &str| param(name).filter(|v| !v.trim().is_empty());
        Embedding {
            host: given("host"),
            embedded: given("embedded"),
            locale: given("locale"),
        }
    }

    /// The parameters to keep, in the order the admin gives them.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("host", &self.host),
            ("embedded", &self.embedded),
            ("locale", &self.locale),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    }

    /// `href` keeping them; one `href` already names stays as it is.
    pub fn keep_in(&self, href: &str) -> String {
        self.pairs().fold(href.to_owned(), |href, (name, value)| {
            if has_param(&href, name) {
                href
            } else {
                with_param(&href, name, value)
            }
        })
    }
}

/// The admin's parameter the server function is not given: the short-lived `id_token`, which no
/// link keeps either. The server function does get `host`, `embedded` and `locale`: it draws
/// parts of the page as HTML (the banners), whose links must keep them.
const ADMIN_PARAMS: [&str; 1] = ["id_token"];

/// What the server function is given of the page URL's `pairs`: the shop it names, and every
/// other parameter but the session token.
pub fn load_arguments<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Option<String>, Vec<(String, String)>) {
    let mut shop = None;
    let mut rest = Vec::new();
    for (name, value) in pairs {
        if name == "shop" {
            // The last one wins, as in the router's own `get`.
            shop = Some(value.to_owned());
        } else if !ADMIN_PARAMS.contains(&name) {
            rest.push((name.to_owned(), value.to_owned()));
        }
    }
    (shop, rest)
}

/// Percent-encodes a query component: everything but RFC 3986's unreserved characters.
pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `href` with `name=value` added to its query (`value` percent-encoded).
pub fn with_param(href: &str, name: &str, value: &str) -> String {
    let join = if href.contains('?') { '&' } else { '?' };
    format!("{href}{join}{name}={}", encode(value))
}

/// Whether the query of `href` names `name`.
fn has_param(href: &str, name: &str) -> bool {
    href.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(name))
    })
}

/// The page's own path.
pub const PATH: &str = "/orders";
/// Where the CSV export of a view is served: the page's path and `/export.csv`, with the view's
/// parameters.
pub const EXPORT_PATH: &str = "/orders/export.csv";

/// Where a page that cannot be shown sends the user back to: inside the admin, every order of the
/// shop the URL named, still inside the app; outside, every order of the default shop (the shop
/// named may be what could not be shown).
pub fn home_href(shop: Option<&str>, embedding: &Embedding) -> String {
    let shop = shop.map(str::trim).filter(|s| !s.is_empty());
    match shop {
        Some(shop) if embedding.pairs().next().is_some() => {
            embedding.keep_in(&with_param(PATH, "shop", shop))
        }
        _ => embedding.keep_in(PATH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_admins_host_and_embedded_are_read_from_the_url_and_empty_ones_are_absent() {
        let inside = Embedding::from_url(url(&[
            ("shop", "acme.myshopify.com"),
            ("host", "YWRtaW4"),
            ("embedded", "1"),
            ("id_token", "a.b.c"),
        ]));
        assert_eq!(
            inside,
            Embedding {
                host: Some("YWRtaW4".into()),
                embedded: Some("1".into()),
                locale: None,
            }
        );
        let blank = Embedding::from_url(url(&[("host", " "), ("embedded", "")]));
        assert_eq!(blank, Embedding::default());
        assert_eq!(Embedding::from_url(url(&[])), Embedding::default());
    }

    #[test]
    fn a_link_keeps_each_of_the_admins_parameters_once() {
        let inside = Embedding {
            host: Some("a/b=".into()),
            embedded: Some("1".into()),
            locale: None,
        };
        assert_eq!(
            inside.keep_in("/orders"),
            "/orders?host=a%2Fb%3D&embedded=1"
        );
        let once = inside.keep_in("/orders?tab=returns");
        assert_eq!(once, "/orders?tab=returns&host=a%2Fb%3D&embedded=1");
        assert_eq!(
            inside.keep_in(&once),
            once,
            "keeping them twice adds nothing"
        );
        let only_embedded = Embedding {
            host: None,
            embedded: Some("1".into()),
            locale: None,
        };
        assert_eq!(
            only_embedded.keep_in("/orders?tab=all"),
            "/orders?tab=all&embedded=1"
        );
    }

    #[test]
    fn the_admins_locale_is_kept_by_links_and_still_reaches_the_server() {
        let pairs = [
            ("shop", "acme.myshopify.com"),
            ("embedded", "1"),
            ("locale", "de"),
        ];
        let inside = Embedding::from_url(url(&pairs));
        assert_eq!(inside.locale.as_deref(), Some("de"));
        assert_eq!(
            inside.keep_in("/orders?tab=returns"),
            "/orders?tab=returns&embedded=1&locale=de"
        );
        let (_, rest) = load_arguments(pairs);
        assert!(rest.contains(&("locale".to_owned(), "de".to_owned())));
    }

    #[test]
    fn a_link_outside_the_admin_stays_as_it_is() {
        let outside = Embedding::default();
        assert_eq!(outside.keep_in("/orders"), "/orders");
        assert_eq!(
            outside.keep_in("/orders?tab=returns"),
            "/orders?tab=returns"
        );
        assert_eq!(outside.pairs().count(), 0);
    }

    #[test]
    fn the_way_back_stays_inside_the_admin_with_its_shop() {
        let inside = Embedding {
            host: Some("YWRtaW4".into()),
            embedded: Some("1".into()),
            locale: None,
        };
        assert_eq!(
            home_href(Some("acme.myshopify.com"), &inside),
            "/orders?shop=acme.myshopify.com&host=YWRtaW4&embedded=1"
        );
        assert_eq!(home_href(None, &inside), "/orders?host=YWRtaW4&embedded=1");
    }

    #[test]
    fn the_way_back_outside_the_admin_is_every_order_as_before() {
        let outside = Embedding::default();
        assert_eq!(home_href(Some("acme.myshopify.com"), &outside), "/orders");
        assert_eq!(home_href(None, &outside), "/orders");
    }

    #[test]
    fn a_session_token_is_added_to_a_link_percent_encoded() {
        assert_eq!(
            with_param(
                "/orders/export.csv?shop=acme.myshopify.com",
                "id_token",
                "e30.e30+/="
            ),
            "/orders/export.csv?shop=acme.myshopify.com&id_token=e30.e30%2B%2F%3D"
        );
        assert_eq!(
            with_param("/orders/export.csv", "id_token", "t"),
            "/orders/export.csv?id_token=t"
        );
    }

    #[test]
    fn the_server_function_gets_the_shop_the_view_and_the_admins_parameters_but_no_token() {
        let (shop, rest) = load_arguments([
            ("shop", "acme.myshopify.com"),
            ("host", "YWRtaW4"),
            ("tab", "returns"),
            ("embedded", "1"),
            ("id_token", "a.b.c"),
            ("status", "unfulfilled"),
            ("status", "on_hold"),
        ]);
        assert_eq!(shop.as_deref(), Some("acme.myshopify.com"));
        let rest: Vec<(&str, &str)> = rest.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            rest,
            [
                ("host", "YWRtaW4"),
                ("tab", "returns"),
                ("embedded", "1"),
                ("status", "unfulfilled"),
                ("status", "on_hold")
            ]
        );
        assert_eq!(load_arguments([("tab", "all")]).0, None);
    }
}
