//! OAuth with Zoom as data: the authorize URL with a signed one-time `state` and PKCE
//! `S256`, and the token endpoint's requests for every grant the addon uses.

use crate::error::{CoreError, Result};
use crate::http::HttpRequest;
use crate::json::FromJson;
use crate::random::{encode_hex, HostRandom};
use crate::secret::Secret;
use crate::weburl::{with_query, WebUrl};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const DEFAULT_OAUTH_BASE: &str = "https://zoom.us";
const STATE_PREFIX: &str = "v1";
const STATE_DEFAULT_TTL: i64 = 600;
const STATE_MAX_TTL: i64 = 3600;

/// Zoom's OAuth origin (`https://zoom.us`), or a loopback stand-in for tests.
pub fn oauth_base(base: Option<&str>) -> Result<String> {
    let raw = base.unwrap_or(DEFAULT_OAUTH_BASE);
    let bad = |m: &str| CoreError::field("oauth_base_invalid", "oauth_base", m.to_string());
    let url = WebUrl::parse(raw).map_err(|_| bad("oauth_base is not a valid URL"))?;
    if !url.is_origin() {
        return Err(bad("oauth_base must be a bare origin"));
    }
    if !url.is_secure_or_local() {
        return Err(bad("oauth_base must use https"));
    }
    Ok(url.origin())
}

fn endpoint(base: Option<&str>, path: &str) -> Result<String> {
    Ok(format!("{}{path}", oauth_base(base)?))
}

fn site_mac(site_key: &Secret, label: &str, msg: &str) -> Result<[u8; 32]> {
    if site_key.expose().len() < 32 {
        return Err(CoreError::field(
            "site_key_invalid",
            "site_key",
            "the site key must be at least 32 characters",
        ));
    }
    let mut mac = HmacSha256::new_from_slice(site_key.expose().as_bytes())
        .map_err(|_| CoreError::field("site_key_invalid", "site_key", "unusable site key"))?;
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(msg.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

/// RFC 7636 S256: `BASE64URL(SHA256(ascii(verifier)))`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The verifier is derived from the state's nonce under the site key, so the callback can
/// recompute it and nothing secret has to be stored between the two requests.
fn pkce_verifier(site_key: &Secret, nonce: &str) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(site_mac(site_key, "kct-pkce-verifier", nonce)?))
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeInput {
    pub oauth_base: Option<String>,
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: u64,
    pub now: i64,
    pub ttl: Option<i64>,
    pub site_key: Secret,
    /// Hex entropy for the nonce: at least 16 bytes.
    pub random: String,
}

#[derive(Debug, Serialize)]
pub struct AuthorizeOutput {
    pub url: String,
    pub state: String,
    pub expires_at: i64,
    /// The one-time key the host records when the callback uses this state.
    pub burn_key: String,
    /// Set this in the browser that starts the flow (an HttpOnly, SameSite=Lax cookie,
    /// Secure on https, until `expires_at`) and hand it back to `oauth.verify_state`: the
    /// state is only good in that browser. Derived from the nonce under the site key, so
    /// nothing is stored and the state alone does not reveal it.
    pub binder: String,
}

/// What the browser that started the flow must present at the callback.
fn binder(site_key: &Secret, nonce: &str) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(site_mac(site_key, "kct-oauth-binder", nonce)?))
}

pub fn authorize(input: &AuthorizeInput) -> Result<AuthorizeOutput> {
    check_client_id(&input.client_id)?;
    if input.user_id == 0 {
        return Err(CoreError::field(
            "user_invalid",
            "user_id",
            "a logged-in WordPress user is required",
        ));
    }
    let ttl = input.ttl.unwrap_or(STATE_DEFAULT_TTL);
    if !(60..=STATE_MAX_TTL).contains(&ttl) {
        return Err(CoreError::field(
            "ttl_invalid",
            "ttl",
            "state lifetime must be between 60 and 3600 seconds",
        ));
    }
    WebUrl::parse(&input.redirect_uri).map_err(|_| {
        CoreError::field(
            "redirect_url_invalid",
            "redirect_uri",
            "redirect URL is not a valid URL",
        )
    })?;
    let mut random = HostRandom::from_hex(&input.random, "random", 16)?;
    let nonce = encode_hex(random.take(16));
    let expires_at = input.now + ttl;
    let payload = format!("{}.{}.{}", input.user_id, expires_at, nonce);
    let mac = site_mac(&input.site_key, "kct-oauth-state", &payload)?;
    let state = format!(
        "{STATE_PREFIX}.{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(mac)
    );
    let verifier = pkce_verifier(&input.site_key, &nonce)?;
    let url = with_query(
        endpoint(input.oauth_base.as_deref(), "/oauth/authorize")?,
        &[
            ("response_type", "code"),
            ("client_id", &input.client_id),
            // Sent exactly as configured: Zoom compares it byte for byte (4709 otherwise).
            ("redirect_uri", &input.redirect_uri),
            ("state", &state),
            ("code_challenge", &pkce_challenge(&verifier)),
            ("code_challenge_method", "S256"),
        ],
    );
    Ok(AuthorizeOutput {
        url,
        state,
        expires_at,
        burn_key: burn_key(&nonce),
        binder: binder(&input.site_key, &nonce)?,
    })
}

fn burn_key(nonce: &str) -> String {
    format!("kct_state_{nonce}")
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct VerifyStateInput {
    pub state: String,
    pub site_key: Secret,
    pub now: i64,
    /// The WordPress user logged in in the browser that came back: it must be the one who
    /// started (found by the abuse review: a state opened elsewhere connected the victim).
    pub current_user_id: Option<u64>,
    /// The `binder` cookie that browser presented, if any: it must be the one set when the
    /// flow started.
    pub binder: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct VerifiedState {
    pub user_id: u64,
    pub expires_at: i64,
    /// Record this key once (atomically); if it was already recorded, refuse the callback.
    pub burn_key: String,
    /// Keep until `expires_at`; after that the state is refused on expiry anyway.
    pub burn_until: i64,
    pub code_verifier: String,
}

pub fn verify_state(input: &VerifyStateInput) -> Result<VerifiedState> {
    let invalid = || CoreError::field("state_invalid", "state", "the OAuth state is not valid");
    let mut parts = input.state.split('.');
    let (Some(STATE_PREFIX), Some(payload_b64), Some(mac_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let given = URL_SAFE_NO_PAD.decode(mac_b64).map_err(|_| invalid())?;
    let expected = site_mac(&input.site_key, "kct-oauth-state", &payload)?;
    if given.len() != expected.len() || !bool::from(given.as_slice().ct_eq(&expected)) {
        return Err(invalid());
    }
    // Only a payload the site signed gets this far.
    let mut fields = payload.split('.');
    let user_id: u64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let expires_at: i64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let nonce = fields.next().ok_or_else(invalid)?.to_string();
    if input.now > expires_at {
        return Err(CoreError::field(
            "state_expired",
            "state",
            "the Zoom connection took too long; please start again",
        ));
    }
    let expected = binder(&input.site_key, &nonce)?;
    let presented = input.binder.as_deref().unwrap_or("");
    if presented.len() != expected.len()
        || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
    {
        return Err(CoreError::field(
            "state_browser_mismatch",
            "binder",
            "this Zoom connection was started in another browser; please start again here",
        ));
    }
    match input.current_user_id.filter(|&u| u != 0) {
        None => {
            return Err(CoreError::field(
                "state_login_required",
                "current_user_id",
                "log in to WordPress in this browser, then connect Zoom again",
            ))
        }
        Some(current) if current != user_id => {
            return Err(CoreError::field(
                "state_user_mismatch",
                "state",
                "this Zoom connection was started by another user",
            ))
        }
        Some(_) => {}
    }
    Ok(VerifiedState {
        user_id,
        expires_at,
        burn_key: burn_key(&nonce),
        burn_until: expires_at,
        code_verifier: pkce_verifier(&input.site_key, &nonce)?,
    })
}

/// Client credentials for the Basic header.
pub struct Client<'a> {
    pub oauth_base: Option<&'a str>,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
}

macro_rules! client {
    ($i:expr) => {
        Client {
            oauth_base: $i.oauth_base.as_deref(),
            client_id: &$i.client_id,
            client_secret: &$i.client_secret,
        }
    };
}

fn check_client_id(id: &str) -> Result<()> {
    if id.is_empty() || id.contains(':') || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CoreError::field(
            "client_id_invalid",
            "client_id",
            "client id must be non-empty printable text without ':'",
        ));
    }
    Ok(())
}

fn token_request(client: &Client<'_>, url: String) -> Result<HttpRequest> {
    check_client_id(client.client_id)?;
    if client.client_secret.is_empty() {
        return Err(CoreError::field(
            "client_secret_missing",
            "client_secret",
            "client secret is required",
        ));
    }
    let basic = STANDARD.encode(format!(
        "{}:{}",
        client.client_id,
        client.client_secret.expose()
    ));
    Ok(HttpRequest::new("POST", url)
        .header("authorization", format!("Basic {basic}"))
        .header("accept", "application/json"))
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct ExchangeInput {
    pub oauth_base: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    pub code: Secret,
    pub redirect_uri: String,
    pub code_verifier: Secret,
}

pub fn exchange_code(input: &ExchangeInput) -> Result<HttpRequest> {
    if input.code.is_empty() {
        return Err(CoreError::field(
            "code_missing",
            "code",
            "authorization code is missing",
        ));
    }
    let url = endpoint(input.oauth_base.as_deref(), "/oauth/token")?;
    Ok(token_request(&client!(input), url)?.form(&[
        ("grant_type", "authorization_code"),
        ("code", input.code.expose()),
        ("redirect_uri", &input.redirect_uri),
        ("code_verifier", input.code_verifier.expose()),
    ]))
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    pub oauth_base: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

pub fn refresh(input: &RefreshInput) -> Result<HttpRequest> {
    if input.refresh_token.is_empty() {
        return Err(CoreError::field(
            "refresh_token_missing",
            "refresh_token",
            "no refresh token is stored",
        ));
    }
    let url = endpoint(input.oauth_base.as_deref(), "/oauth/token")?;
    Ok(token_request(&client!(input), url)?.form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", input.refresh_token.expose()),
    ]))
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct S2sInput {
    pub oauth_base: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    pub account_id: String,
}

/// Server-to-Server: `grant_type=account_credentials&account_id=..` in the query.
pub fn s2s_token(input: &S2sInput) -> Result<HttpRequest> {
    crate::validation::check_account_id(&input.account_id)
        .map_err(|m| CoreError::field("account_id_invalid", "account_id", m))?;
    let url = with_query(
        endpoint(input.oauth_base.as_deref(), "/oauth/token")?,
        &[
            ("grant_type", "account_credentials"),
            ("account_id", &input.account_id),
        ],
    );
    token_request(&client!(input), url)
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    pub oauth_base: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    pub token: Secret,
}

/// Revoke in a form body, so the token never lands in a URL (and so in access logs).
pub fn revoke(input: &RevokeInput) -> Result<HttpRequest> {
    if input.token.is_empty() {
        return Err(CoreError::field(
            "token_missing",
            "token",
            "no token to revoke",
        ));
    }
    let url = endpoint(input.oauth_base.as_deref(), "/oauth/revoke")?;
    Ok(token_request(&client!(input), url)?.form(&[("token", input.token.expose())]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "0123456789abcdef0123456789abcdef-site";

    fn auth_input(now: i64) -> AuthorizeInput {
        crate::json::read(json!({
            "client_id": "cid_ABC", "redirect_uri": "https://clinic.example/wp-json/kivicare/v1/settings/zoom-telemed/callback",
            "user_id": 7, "now": now, "site_key": KEY, "random": "0f".repeat(16)
        }))
        .unwrap()
    }

    /// The callback as the right browser makes it (the binder cookie of the flow it started).
    fn verify(state: &str, now: i64, user: Option<u64>) -> Result<VerifiedState> {
        let binder = authorize(&auth_input(1000)).unwrap().binder;
        verify_in(state, now, user, Some(&binder))
    }

    fn verify_in(
        state: &str,
        now: i64,
        user: Option<u64>,
        binder: Option<&str>,
    ) -> Result<VerifiedState> {
        verify_state(&VerifyStateInput {
            state: state.into(),
            site_key: Secret::new(KEY),
            now,
            current_user_id: user,
            binder: binder.map(str::to_string),
        })
    }

    /// Found by the abuse review: a doctor's authorize URL opened in another browser (not
    /// logged in, or another user's) connected the doctor to the opener's Zoom account.
    #[test]
    fn state_is_good_only_in_the_browser_and_for_the_user_that_started() {
        let out = authorize(&auth_input(1000)).unwrap();
        assert!(verify_in(&out.state, 1000, Some(7), Some(&out.binder)).is_ok());
        assert_eq!(
            verify_in(&out.state, 1000, Some(7), None).unwrap_err().code,
            "state_browser_mismatch"
        );
        let mut other = out.binder.clone();
        other.replace_range(0..1, if other.starts_with('A') { "B" } else { "A" });
        assert_eq!(
            verify_in(&out.state, 1000, Some(7), Some(&other))
                .unwrap_err()
                .code,
            "state_browser_mismatch"
        );
        assert_eq!(
            verify_in(&out.state, 1000, None, Some(&out.binder))
                .unwrap_err()
                .code,
            "state_login_required"
        );
        assert_eq!(
            verify_in(&out.state, 1000, Some(8), Some(&out.binder))
                .unwrap_err()
                .code,
            "state_user_mismatch"
        );
        assert!(
            !out.url.contains(&out.binder),
            "the binder never travels through Zoom"
        );
    }

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorize_url_has_state_and_s256() {
        let out = authorize(&auth_input(1000)).unwrap();
        let (path, query) = out.url.split_once('?').unwrap();
        let q: std::collections::HashMap<_, _> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(path, "https://zoom.us/oauth/authorize");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], out.state);
        assert_eq!(q["response_type"], "code");
        let v = verify(&out.state, 1000, Some(7)).unwrap();
        assert_eq!(v.user_id, 7);
        assert_eq!(v.burn_key, out.burn_key);
        assert_eq!(q["code_challenge"], pkce_challenge(&v.code_verifier));
        assert_eq!(v.code_verifier.len(), 43);
    }

    #[test]
    fn state_is_refused_when_late_tampered_or_for_another_user() {
        let out = authorize(&auth_input(1000)).unwrap();
        assert_eq!(
            verify(&out.state, 1601, None).unwrap_err().code,
            "state_expired"
        );
        assert_eq!(
            verify(&out.state, 1000, Some(8)).unwrap_err().code,
            "state_user_mismatch"
        );
        let mut forged = out.state.clone();
        forged.push('A');
        assert_eq!(
            verify(&forged, 1000, None).unwrap_err().code,
            "state_invalid"
        );
        // A payload naming another user, with the old MAC, is refused.
        let parts: Vec<&str> = out.state.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let other = payload.replacen("7.", "1.", 1);
        let forged = format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(other), parts[2]);
        assert_eq!(
            verify(&forged, 1000, None).unwrap_err().code,
            "state_invalid"
        );
    }

    #[test]
    fn token_requests_are_basic_and_form() {
        let r = refresh(
            &crate::json::read(json!({
                "client_id": "id", "client_secret": "sec", "refresh_token": "r1"
            }))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(r.url, "https://zoom.us/oauth/token");
        assert_eq!(r.headers.get("authorization"), Some("Basic aWQ6c2Vj"));
        assert_eq!(
            r.body.map(|b| b.as_text()).as_deref(),
            Some("grant_type=refresh_token&refresh_token=r1")
        );
        let s = s2s_token(
            &crate::json::read(json!({
                "client_id": "id", "client_secret": "sec", "account_id": "AbCdEfGhIj_123"
            }))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            s.url,
            "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=AbCdEfGhIj_123"
        );
    }
}
