//! Shopify's App Bridge (SPEC §10). Inside the Shopify admin the page loads App Bridge's script
//! first, which defines `window.shopify`; this module is the one place that talks to it. Callers
//! ask it, and when the answer is "no App Bridge" (development, the browser tests, and always on
//! the server) they do what the dashboard does on its own.
//!
//! App Bridge also gives every same-origin `fetch` the `Authorization: Bearer` session token, so
//! server functions and JSON reads need nothing from here; only requests that cannot carry a
//! header (the live stream, the CSV link) ask for a [`session_token`] to put in their URL.

/// Whether the page runs with App Bridge (`window.shopify` is there). Never on the server.
pub fn present() -> bool {
    #[cfg(feature = "hydrate")]
    {
        client::shopify().is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Shows `text` as one of the admin's toasts (`shopify.toast.show`), an error toast when `error`.
/// `false` when App Bridge has no toasts or refused this one: then the caller shows it itself.
pub fn show_toast(text: &str, error: bool) -> bool {
    #[cfg(feature = "hydrate")]
    {
        client::show_toast(text, error)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (text, error);
        false
    }
}

/// A fresh session token from `shopify.idToken()` (tokens live about a minute: take one for each
/// request). `None` without App Bridge, or if App Bridge could not give one.
pub async fn session_token() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        client::session_token().await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! `window.shopify`, read through `Reflect`: App Bridge may be absent, so nothing here may
    //! assume a property exists.

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// `obj[name]`, unless it is undefined or null.
    fn property(obj: &JsValue, name: &str) -> Option<JsValue> {
        js_sys::Reflect::get(obj, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// `obj[name]`, if it is a function.
    fn method(obj: &JsValue, name: &str) -> Option<js_sys::Function> {
        property(obj, name)?.dyn_into().ok()
    }

    /// `window.shopify`, if App Bridge defined it.
    pub fn shopify() -> Option<JsValue> {
        property(&js_sys::global(), "shopify")
    }

    /// `shopify.toast.show(text, { isError })`; `false` if it is not there or throws.
    pub fn show_toast(text: &str, error: bool) -> bool {
        let Some(toast) = shopify().and_then(|s| property(&s, "toast")) else {
            return false;
        };
        let Some(show) = method(&toast, "show") else {
            return false;
        };
        let options = js_sys::Object::new();
        if error
            && js_sys::Reflect::set(&options, &JsValue::from_str("isError"), &JsValue::TRUE)
                .is_err()
        {
            return false;
        }
        show.call2(&toast, &JsValue::from_str(text), &options)
            .is_ok()
    }

    /// Awaits `shopify.idToken()`; `None` if it is not there, throws, rejects or gives no text.
    pub async fn session_token() -> Option<String> {
        let shopify = shopify()?;
        let id_token = method(&shopify, "idToken")?;
        let answer = id_token.call0(&shopify).ok()?;
        // `Promise.resolve` accepts a token given directly, too.
        let token = JsFuture::from(js_sys::Promise::resolve(&answer))
            .await
            .ok()?;
        token.as_string().filter(|t| !t.is_empty())
    }
}
