//! Token sets and the decisions about them: use the token, refresh it, fetch a new
//! Server-to-Server one, or ask the doctor to reconnect.

use crate::error::{CoreError, Result};
use crate::http::HttpResponse;
use crate::json::{FromJson, Lenient};
use crate::meeting::api_base;
use crate::secret::Secret;
use serde::Serialize;

pub const DEFAULT_SKEW: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One user-level OAuth connection per doctor, with rotating refresh tokens.
    Oauth,
    /// One clinic-wide Server-to-Server app: no refresh token, fetch a new one instead.
    S2s,
}

#[derive(Debug, Clone, PartialEq, Serialize, FromJson)]
#[from_json(inline)]
pub struct TokenSet {
    pub access_token: Secret,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Absolute Unix time: Zoom sends only `expires_in`, so it is fixed when received.
    pub expires_at: i64,
    pub api_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Parses a successful token answer received at `now`. For grants that rotate, a missing
/// refresh token is an error: keeping the old one would break at the next refresh.
/// Zoom's token answer as it arrives.
#[derive(FromJson)]
struct TokenAnswer {
    access_token: Lenient<String>,
    refresh_token: Lenient<String>,
    expires_in: Lenient<i64>,
    api_url: Lenient<String>,
    scope: Lenient<String>,
}

pub fn parse_token(resp: &HttpResponse, now: i64, needs_refresh_token: bool) -> Result<TokenSet> {
    let bad = |m: &str| CoreError::new("token_response_invalid", m.to_string());
    let json =
        crate::json::Json::parse(&resp.body).map_err(|_| bad("Zoom's token answer is not JSON"))?;
    let t: TokenAnswer =
        crate::json::read(json).map_err(|_| bad("Zoom's token answer is not an object"))?;
    let access = t
        .access_token
        .text()
        .ok_or_else(|| bad("Zoom's token answer has no access_token"))?;
    let expires_in = t
        .expires_in
        .get()
        .filter(|&e| e > 0)
        .ok_or_else(|| bad("Zoom's token answer has no usable expires_in"))?;
    let refresh = t.refresh_token.text().map(Secret::new);
    if needs_refresh_token && refresh.is_none() {
        return Err(bad("Zoom's token answer has no refresh_token"));
    }
    let api_url = t
        .api_url
        .text()
        .unwrap_or_else(|| "https://api.zoom.us".to_string());
    api_base(&api_url)?;
    Ok(TokenSet {
        access_token: Secret::new(access),
        refresh_token: refresh,
        expires_at: now.saturating_add(expires_in),
        api_url,
        scope: t.scope.text(),
    })
}

/// How long a worker waits for the renewal lock while another worker renews the same set
/// (a refresh is one call to Zoom: its HTTP timeout is shorter).
pub const LOCK_WAIT_SECS: i64 = 10;
/// After waiting that long in vain, how long the call rests before it is tried again: by
/// then the other worker has stored its set or given up.
pub const BUSY_RETRY_SECS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// The stored access token is good for at least the skew: call Zoom with it.
    Use,
    /// Take the renewal lock, waiting up to `lock_wait_s`; re-read the stored set and decide
    /// again (another worker may have renewed it), then refresh if that says so. If the lock
    /// stays held, fail the call as busy: it is tried again at `busy_retry_at`.
    Refresh {
        lock_wait_s: i64,
        busy_retry_at: i64,
    },
    /// Server-to-Server: as `Refresh`, but request a new account token.
    Fetch {
        lock_wait_s: i64,
        busy_retry_at: i64,
    },
    /// The doctor must connect Zoom again; say why.
    Reauthorize { reason: &'static str },
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct DecideInput {
    pub mode: Mode,
    pub token: Option<TokenSet>,
    pub now: i64,
    pub skew: Option<i64>,
    /// The access token Zoom just refused for this call: a set still holding it is not
    /// used again whatever its expiry says; a set holding another one was renewed meanwhile.
    pub rejected: Option<Secret>,
}

pub fn decide(input: &DecideInput) -> Decision {
    let token = input.token.as_ref();
    match (token, &input.rejected) {
        (Some(t), Some(r)) if &t.access_token == r => renewal(input.mode, t, input.now),
        _ => decide_held(input.mode, token, input.now, input.skew),
    }
}

/// [`decide`] for a token the caller holds, without building a [`DecideInput`] around a copy.
pub fn decide_held(mode: Mode, token: Option<&TokenSet>, now: i64, skew: Option<i64>) -> Decision {
    let skew = skew.unwrap_or(DEFAULT_SKEW).clamp(0, 3000);
    match (mode, token) {
        (Mode::Oauth, None) => Decision::Reauthorize {
            reason: "not_connected",
        },
        (_, Some(t)) if t.expires_at.saturating_sub(skew) > now => Decision::Use,
        (Mode::S2s, None) => fetch(now),
        (_, Some(t)) => renewal(mode, t, now),
    }
}

/// A set that must not be used as it is: how to get the next one.
fn renewal(mode: Mode, t: &TokenSet, now: i64) -> Decision {
    match (mode, &t.refresh_token) {
        (Mode::S2s, _) => fetch(now),
        (Mode::Oauth, Some(r)) if !r.is_empty() => Decision::Refresh {
            lock_wait_s: LOCK_WAIT_SECS,
            busy_retry_at: busy_retry_at(now),
        },
        (Mode::Oauth, _) => Decision::Reauthorize {
            reason: "no_refresh_token",
        },
    }
}

fn fetch(now: i64) -> Decision {
    Decision::Fetch {
        lock_wait_s: LOCK_WAIT_SECS,
        busy_retry_at: busy_retry_at(now),
    }
}

/// Counted from the decision, which is made just before the wait for the lock begins.
fn busy_retry_at(now: i64) -> i64 {
    now.saturating_add(LOCK_WAIT_SECS + BUSY_RETRY_SECS)
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct AfterRefreshFailureInput {
    /// The refresh token the failed request carried.
    pub used_refresh_token: Secret,
    /// What the host re-read from storage after the failure.
    pub stored: Option<TokenSet>,
    pub now: i64,
    pub skew: Option<i64>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AfterRefreshFailure {
    /// Another worker refreshed first: carry on with the stored set (`next` says how).
    UseStored { next: Decision },
    /// Zoom refused the refresh token we still hold: the connection is gone.
    Reauthorize { reason: &'static str },
}

/// After `invalid_grant`: a changed stored refresh token means a concurrent refresh won.
pub fn after_refresh_failure(input: &AfterRefreshFailureInput) -> AfterRefreshFailure {
    match &input.stored {
        Some(stored)
            if stored
                .refresh_token
                .as_ref()
                .is_some_and(|r| !r.is_empty() && r != &input.used_refresh_token) =>
        {
            let next = decide_held(Mode::Oauth, Some(stored), input.now, input.skew);
            AfterRefreshFailure::UseStored { next }
        }
        _ => AfterRefreshFailure::Reauthorize {
            reason: "refresh_rejected",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(expires_at: i64, refresh: Option<&str>) -> TokenSet {
        TokenSet {
            access_token: Secret::new("a"),
            refresh_token: refresh.map(Secret::new),
            expires_at,
            api_url: "https://api.zoom.us".into(),
            scope: None,
        }
    }

    fn d(mode: Mode, token: Option<TokenSet>, now: i64) -> Decision {
        decide(&DecideInput {
            mode,
            token,
            now,
            skew: None,
            rejected: None,
        })
    }

    #[test]
    fn oauth_decisions_with_skew() {
        assert_eq!(
            d(Mode::Oauth, Some(set(10_000, Some("r"))), 9_000),
            Decision::Use
        );
        assert_eq!(
            d(Mode::Oauth, Some(set(10_000, Some("r"))), 9_700),
            Decision::Refresh {
                lock_wait_s: 10,
                busy_retry_at: 9715
            }
        );
        assert_eq!(
            d(Mode::Oauth, Some(set(10_000, None)), 9_700),
            Decision::Reauthorize {
                reason: "no_refresh_token"
            }
        );
        assert_eq!(
            d(Mode::Oauth, None, 0),
            Decision::Reauthorize {
                reason: "not_connected"
            }
        );
    }

    #[test]
    fn s2s_decisions() {
        assert_eq!(
            d(Mode::S2s, None, 0),
            Decision::Fetch {
                lock_wait_s: 10,
                busy_retry_at: 15
            }
        );
        assert_eq!(d(Mode::S2s, Some(set(10_000, None)), 9_000), Decision::Use);
        assert_eq!(
            d(Mode::S2s, Some(set(10_000, None)), 9_701),
            Decision::Fetch {
                lock_wait_s: 10,
                busy_retry_at: 9716
            }
        );
    }

    fn after_rejection(mode: Mode, token: TokenSet, rejected: &str) -> Decision {
        decide(&DecideInput {
            mode,
            token: Some(token),
            now: 9_000,
            skew: None,
            rejected: Some(Secret::new(rejected)),
        })
    }

    #[test]
    fn a_token_zoom_refused_is_renewed_however_long_it_has_left() {
        // `set` holds the access token "a", good until 10,000: fresh at 9,000.
        assert_eq!(
            after_rejection(Mode::Oauth, set(10_000, Some("r")), "a"),
            Decision::Refresh {
                lock_wait_s: 10,
                busy_retry_at: 9015
            }
        );
        assert_eq!(
            after_rejection(Mode::S2s, set(10_000, None), "a"),
            Decision::Fetch {
                lock_wait_s: 10,
                busy_retry_at: 9015
            }
        );
        assert_eq!(
            after_rejection(Mode::Oauth, set(10_000, None), "a"),
            Decision::Reauthorize {
                reason: "no_refresh_token"
            }
        );
    }

    #[test]
    fn a_set_renewed_since_zoom_refused_the_old_token_is_used() {
        assert_eq!(
            after_rejection(Mode::Oauth, set(10_000, Some("r")), "old"),
            Decision::Use
        );
        assert_eq!(
            after_rejection(Mode::S2s, set(10_000, None), "old"),
            Decision::Use
        );
    }

    #[test]
    fn concurrent_refresh_is_detected_from_the_stored_token() {
        let r = after_refresh_failure(&AfterRefreshFailureInput {
            used_refresh_token: Secret::new("old"),
            stored: Some(set(20_000, Some("new"))),
            now: 10_000,
            skew: None,
        });
        assert_eq!(
            r,
            AfterRefreshFailure::UseStored {
                next: Decision::Use
            }
        );
        let r = after_refresh_failure(&AfterRefreshFailureInput {
            used_refresh_token: Secret::new("old"),
            stored: Some(set(20_000, Some("old"))),
            now: 10_000,
            skew: None,
        });
        assert_eq!(
            r,
            AfterRefreshFailure::Reauthorize {
                reason: "refresh_rejected"
            }
        );
    }

    #[test]
    fn token_answers_get_absolute_expiry_and_need_rotation() {
        let resp = HttpResponse {
            status: 200,
            body: json!({"access_token":"a","refresh_token":"r2","expires_in":3599,
                "api_url":"https://api.zoom.us","scope":"user:read:user"})
            .to_string(),
            ..Default::default()
        };
        let t = parse_token(&resp, 1000, true).unwrap();
        assert_eq!(t.expires_at, 4599);
        assert_eq!(t.refresh_token, Some(Secret::new("r2")));
        let no_refresh = HttpResponse {
            status: 200,
            body: json!({"access_token":"a","expires_in":3600}).to_string(),
            ..Default::default()
        };
        assert!(parse_token(&no_refresh, 0, true).is_err());
        assert!(parse_token(&no_refresh, 0, false).is_ok());
    }
}
