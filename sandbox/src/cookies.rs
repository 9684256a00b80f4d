//! Cookies of the emulators' browser pages (Domino's login, Zoho's and 奉行's consent), read and
//! written with the `cookie` crate.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::Cookie;

/// The value of the request's cookie `name`.
pub fn get(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Sets `cookie` on an answer (one Set-Cookie, replacing any other).
pub fn set(headers: &mut HeaderMap, cookie: Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        headers.insert(header::SET_COOKIE, v);
    }
}
