//! Secrets out of what is logged or shown: the one rule for a connection string (`DATABASE_URL`
//! and any URL Sync writes into a log line or an error message), and the stricter one for the
//! outbox's receiver URLs.
//!
//! # Policy
//!
//! - [`redact`] hides, in every form a connection string takes, the password in a URL's user
//!   information (`postgres://app:***@db/x`) and the value of every parameter whose name says it
//!   is a secret ([`is_secret_name`]), in a URL's query (`?password=***`, `&sslpassword=***`,
//!   `&api_token=***`) and in the `key=value` form libpq also reads (`host=db password=***`,
//!   quoted values included). The rest (user, host, port, database, `sslmode`) stays, for the
//!   operator reading the message.
//! - [`redact_url`] is for URLs whose query means nothing to Sync (a receiver's `?sig=…` could be
//!   a credential under any name): its user information and its whole query are hidden.

/// What replaces a secret.
const HIDDEN: &str = "***";

/// Whether a parameter named `name` holds a secret: its name, in any case, holds `pass` (`password`,
/// `sslpassword`, `passfile`), `pwd`, `secret`, `token`, `key` (`api_key`, `sslkey`), `auth` or
/// `credential`.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// `text` (a URL, or `key=value` pairs) with its secrets replaced by `***` (see the module's
/// policy). Text that is neither is returned as it is.
pub fn redact(text: &str) -> String {
    match text.find("://") {
        Some(scheme_end) => redact_url_text(text, scheme_end + 3),
        None if text.contains('=') => redact_pairs(text),
        None => text.to_owned(),
    }
}

/// A URL given as text, its authority starting at `start`.
fn redact_url_text(text: &str, start: usize) -> String {
    let rest = &text[start..];
    // The query and fragment may hold `@` and `:`; the user information is before both.
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let (before_query, query) = rest.split_at(query_at);
    let mut out = text[..start].to_owned();
    match before_query.rfind('@') {
        Some(at) => {
            let userinfo = &before_query[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(HIDDEN);
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&before_query[at..]);
        }
        None => out.push_str(before_query),
    }
    out.push_str(&redact_query(query));
    out
}

/// `?a=1&password=x#f` with the secret parameters' values hidden.
fn redact_query(query: &str) -> String {
    let Some(params) = query.strip_prefix('?') else {
        return query.to_owned();
    };
    let (params, fragment) = match params.find('#') {
        Some(i) => params.split_at(i),
        None => (params, ""),
    };
    let shown: Vec<String> = params
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(&percent_decoded(name)) => {
                format!("{name}={HIDDEN}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("?{}{fragment}", shown.join("&"))
}

fn percent_decoded(name: &str) -> String {
    percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .into_owned()
}

/// libpq's `key=value` form: pairs separated by spaces, `=` perhaps surrounded by spaces, a value
/// perhaps in single quotes with `\'` and `\\` inside.
fn redact_pairs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // Spaces between pairs.
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        // The keyword.
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        out.push_str(&key);
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' {
            continue;
        }
        out.push('=');
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        // The value.
        let value_start = i;
        if chars.get(i) == Some(&'\'') {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
        }
        if is_secret_name(&key) {
            out.push_str(HIDDEN);
        } else {
            out.extend(&chars[value_start..i]);
        }
    }
    out
}

/// A URL fit for logs: its user name and password (they would be sent as basic auth) and its query
/// (which may carry a token) replaced by `***`.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let had_userinfo = !url.username().is_empty() || url.password().is_some();
    // Only URLs that cannot have credentials refuse these, and those have none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if had_userinfo {
        if let Some(i) = text.find("://") {
            text.insert_str(i + 3, "***@");
        }
    }
    if url.query().is_some() {
        text.push_str("?***");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_hidden_and_the_rest_shown() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
        // Encoded or not, an `@` or a `/` in the password stays hidden.
        assert_eq!(
            redact("postgres://app:p%40ss@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(
            redact("postgresql://app:p@ss/w@db/x?sslmode=require"),
            "postgresql://app:***@db/x?sslmode=require"
        );
        // An `@` in the query is no user information.
        assert_eq!(
            redact("postgres://db/x?application_name=a@b:c"),
            "postgres://db/x?application_name=a@b:c"
        );
        // Several hosts.
        assert_eq!(
            redact("postgres://app:s3cret@db1:5432,db2:5432/x"),
            "postgres://app:***@db1:5432,db2:5432/x"
        );
    }

    #[test]
    fn secret_parameters_in_a_urls_query_are_hidden() {
        assert_eq!(
            redact("postgres://app@db/x?sslmode=require&password=s3cret"),
            "postgres://app@db/x?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgres://db/x?sslpassword=k3y&application_name=sync"),
            "postgres://db/x?sslpassword=***&application_name=sync"
        );
        assert_eq!(
            redact("postgres://u:a@db/x?PassWord=b&api_token=c&client_secret=d&sslkey=/k&x-auth=e"),
            "postgres://u:***@db/x?PassWord=***&api_token=***&client_secret=***&sslkey=***&x-auth=***"
        );
        // A percent-encoded name is read as its name.
        assert_eq!(
            redact("postgres://db/x?pass%77ord=s3cret"),
            "postgres://db/x?pass%77ord=***"
        );
        assert_eq!(
            redact("https://api.example/{shop}?token=abc#frag"),
            "https://api.example/{shop}?token=***#frag"
        );
    }

    #[test]
    fn secret_pairs_of_the_key_value_form_are_hidden() {
        assert_eq!(
            redact("host=db port=5432 password=s3cret dbname=orders"),
            "host=db port=5432 password=*** dbname=orders"
        );
        assert_eq!(
            redact("host=db password = 's3 cr\\'et x' user=app sslpassword=k"),
            "host=db password = *** user=app sslpassword=***"
        );
        assert_eq!(
            redact("dbname=orders password="),
            "dbname=orders password=***"
        );
        assert_eq!(redact("password='unterminated"), "password=***");
        assert_eq!(redact("just words"), "just words");
    }

    #[test]
    fn receiver_credentials_and_queries_never_reach_the_logs() {
        let url = reqwest::Url::parse("https://sync:s3cret@erp.example.com/hooks?sig=abc").unwrap();
        assert_eq!(redact_url(&url), "https://***@erp.example.com/hooks?***");
        let plain = reqwest::Url::parse("http://127.0.0.1:9000/support").unwrap();
        assert_eq!(redact_url(&plain), "http://127.0.0.1:9000/support");
    }
}
