//! Who is calling (reference §2): `X-Cybozu-Authorization: base64(login:password)` or
//! `X-Cybozu-API-Token` (comma-joined or repeated), and what each caller may touch: a token only
//! its own app, with the permissions it was given; the password user every app. Guest-space apps
//! only through `/k/guest/{space}/v1/…`.

use super::assumed;
use super::error::{KError, KResult};
use super::model::{App, Store};
use axum::http::HeaderMap;
use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A login name that passed its password.
    User(String),
    Tokens(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    View,
    Add,
    Edit,
    Delete,
}

/// Password auth wins when both headers are present.
pub fn authenticate(store: &Store, headers: &HeaderMap) -> KResult<Caller> {
    if let Some(v) = headers.get("x-cybozu-authorization") {
        let decoded = v
            .to_str()
            .ok()
            .and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(KError::login_required)?;
        let (login, password) = decoded.split_once(':').ok_or_else(KError::login_required)?;
        return match store
            .users
            .iter()
            .find(|u| u.code == login && u.password == password)
        {
            Some(u) => Ok(Caller::User(u.code.clone())),
            None => Err(KError::login_required()),
        };
    }
    let tokens: Vec<String> = headers
        .get_all("x-cybozu-api-token")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if tokens.is_empty() {
        return Err(KError::login_required());
    }
    Ok(Caller::Tokens(tokens))
}

impl Caller {
    /// Recorded as creator / modifier, and what `LOGINUSER()` means.
    pub fn code(&self) -> &str {
        match self {
            Caller::User(c) => c,
            Caller::Tokens(_) => assumed::TOKEN_USER.0,
        }
    }

    pub fn is_token(&self) -> bool {
        matches!(self, Caller::Tokens(_))
    }

    /// The app, when this caller may use it with `perm` through a path of `space` (the guest
    /// space id of `/k/guest/{space}/v1`, `None` for `/k/v1`).
    pub fn app<'s>(
        &self,
        store: &'s Store,
        app: u64,
        space: Option<u64>,
        perm: Perm,
    ) -> KResult<&'s App> {
        let a = match (store.apps.get(&app), self) {
            (Some(a), _) => a,
            (None, Caller::Tokens(_)) => return Err(token_other_app()),
            (None, Caller::User(_)) => {
                return Err(KError::of(
                    assumed::APP_NOT_FOUND,
                    format!(
                    "指定したアプリ（id: {app}）が見つかりません。削除されている可能性があります。"
                ),
                ))
            }
        };
        let guest = a.space_id.filter(|s| store.is_guest_space(*s));
        if guest != space {
            return Err(KError::of(
                assumed::GUEST_PATH,
                match guest {
                    Some(s) => format!(
                        "ゲストスペース内のアプリです。/k/guest/{s}/v1/ のURLで呼び出してください。"
                    ),
                    None => "ゲストスペースのURLでこのアプリを呼び出すことはできません。".into(),
                },
            ));
        }
        if let Caller::Tokens(ts) = self {
            let mine: Vec<_> = a
                .tokens
                .iter()
                .filter(|t| ts.iter().any(|x| x == &t.token))
                .collect();
            if mine.is_empty() {
                return Err(token_other_app());
            }
            let ok = mine.iter().any(|t| match perm {
                Perm::View => t.view,
                Perm::Add => t.add,
                Perm::Edit => t.edit,
                Perm::Delete => t.delete,
            });
            if !ok {
                return Err(KError::of(
                    assumed::TOKEN_NO_PERMISSION,
                    "APIトークンに、この操作を行う権限がありません。",
                ));
            }
        }
        Ok(a)
    }

    /// Whether lookups may read `app` (a token caller needs that app's token too).
    pub fn can_view(&self, store: &Store, app: u64) -> bool {
        match self {
            Caller::User(_) => store.apps.contains_key(&app),
            Caller::Tokens(ts) => store.apps.get(&app).is_some_and(|a| {
                a.tokens
                    .iter()
                    .any(|t| t.view && ts.iter().any(|x| x == &t.token))
            }),
        }
    }
}

fn token_other_app() -> KError {
    KError::of(
        assumed::TOKEN_OTHER_APP,
        "APIトークンが、このアプリのものではありません。",
    )
}
