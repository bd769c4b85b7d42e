//! Settings validation, written once: the server checks on save with it and the browser
//! runs the very same code (through `pkg/`) as the user types.

use crate::error::CoreError;
use crate::json::FromJson;
use crate::meeting::validate_host;
use crate::policy::{MeetingPolicy, PolicyLayer};
use crate::weburl::{UrlError, WebUrl};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
pub struct Report {
    pub valid: bool,
    pub errors: Vec<CoreError>,
}

impl Report {
    fn from(errors: Vec<CoreError>) -> Self {
        Self {
            valid: errors.is_empty(),
            errors,
        }
    }
}

/// Clinic settings as the admin form sends them. A secret left empty with
/// `*_stored = true` means "keep the stored one": secrets are never sent back to the page.
#[derive(Debug, Default, FromJson)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub auth_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub client_secret_stored: bool,
    /// The client id the stored secret was saved with: once the client id changes, the
    /// stored secret is another app's and no longer counts.
    #[serde(default)]
    pub stored_client_id: Option<String>,
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    pub redirect_url: String,
    /// The callback URL this site serves; the configured one must equal it byte for byte.
    #[cfg_attr(feature = "browser", serde(default))]
    pub expected_redirect_url: Option<String>,
    #[serde(default)]
    pub webhook_secret: String,
    #[serde(default)]
    pub webhook_secret_stored: bool,
}

/// A doctor's own Server-to-Server app and the Zoom user that hosts their meetings.
#[derive(Debug, Default, FromJson)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct DoctorSettings {
    pub auth_type: String,
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub client_secret_stored: bool,
    /// As for the clinic's app: the client id the stored secret was saved with.
    #[serde(default)]
    pub stored_client_id: Option<String>,
    #[serde(default)]
    pub zoom_user: String,
}

/// Whether a secret is stored for the app the form names.
#[derive(Clone, Copy, PartialEq)]
enum Stored {
    /// None is: the field is required.
    No,
    /// One is: an empty field keeps it.
    Yes,
    /// One is, saved with another client id: the new app's secret is required.
    OtherApp,
}

impl Stored {
    fn of(stored: bool) -> Self {
        if stored {
            Stored::Yes
        } else {
            Stored::No
        }
    }

    /// A client secret: stored for this app only if it was saved with this client id.
    fn client_secret(stored: bool, stored_client_id: Option<&str>, client_id: &str) -> Self {
        match (stored, stored_client_id) {
            (true, Some(id)) if id != client_id => Stored::OtherApp,
            _ => Stored::of(stored),
        }
    }
}

fn token_like(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

pub fn check_account_id(s: &str) -> Result<(), String> {
    if token_like(s, 10, 64) {
        Ok(())
    } else {
        Err(
            "account id must be 10 to 64 letters, digits, _ or - (copy it from the Zoom app)"
                .into(),
        )
    }
}

fn client_id(errors: &mut Vec<CoreError>, id: &str) {
    if id.trim().is_empty() {
        errors.push(CoreError::field(
            "required",
            "client_id",
            "client id is required",
        ));
    } else if !token_like(id, 10, 64) {
        errors.push(CoreError::field(
            "client_id_invalid",
            "client_id",
            "client id must be 10 to 64 letters, digits, _ or - (copy it from the Zoom app)",
        ));
    }
}

fn secret(
    errors: &mut Vec<CoreError>,
    field: &str,
    label: &str,
    value: &str,
    stored: Stored,
    min: usize,
) {
    if value.is_empty() {
        match stored {
            Stored::Yes => {}
            Stored::No => errors.push(CoreError::field(
                "required",
                field,
                format!("{label} is required"),
            )),
            Stored::OtherApp => errors.push(CoreError::field(
                "required",
                field,
                format!(
                    "{label} is required: the stored one is the previous app's (the client id changed)"
                ),
            )),
        }
    } else if !token_like(value, min, 128) {
        errors.push(CoreError::field(
            "secret_invalid",
            field,
            format!(
                "{label} must be {min} to 128 letters, digits, _ or - (copy it from the Zoom app)"
            ),
        ));
    }
}

fn redirect(errors: &mut Vec<CoreError>, url: &str, expected: Option<&str>) {
    let field = "redirect_url";
    if url.is_empty() {
        errors.push(CoreError::field(
            "required",
            field,
            "redirect URL is required",
        ));
        return;
    }
    if url.trim() != url {
        errors.push(CoreError::field(
            "redirect_url_invalid",
            field,
            "redirect URL must not start or end with spaces",
        ));
        return;
    }
    let parsed = match WebUrl::parse(url) {
        Ok(p) => p,
        Err(UrlError::NonAsciiHost) => {
            errors.push(CoreError::field(
                "redirect_url_invalid",
                field,
                "redirect URL host must be ASCII: use its punycode (xn--) form",
            ));
            return;
        }
        Err(UrlError::Malformed) => {
            errors.push(CoreError::field(
                "redirect_url_invalid",
                field,
                "redirect URL is not a valid http(s) URL",
            ));
            return;
        }
    };
    if !parsed.is_secure_or_local() {
        errors.push(CoreError::field(
            "redirect_url_insecure",
            field,
            "redirect URL must use https",
        ));
    } else if parsed.has_fragment {
        errors.push(CoreError::field(
            "redirect_url_invalid",
            field,
            "redirect URL must not contain a #fragment",
        ));
    } else if let Some(expected) = expected.filter(|e| !e.is_empty() && *e != url) {
        // Zoom compares byte for byte, trailing slash included (error 4709).
        errors.push(CoreError::field(
            "redirect_url_mismatch",
            field,
            format!("redirect URL must be exactly {expected}"),
        ));
    }
}

/// A Server-to-Server app's three credentials, wherever they are entered.
fn s2s_app(errors: &mut Vec<CoreError>, account_id: &str, id: &str, sec: &str, stored: Stored) {
    if let Err(m) = check_account_id(account_id) {
        errors.push(CoreError::field("account_id_invalid", "account_id", m));
    }
    client_id(errors, id);
    secret(errors, "client_secret", "client secret", sec, stored, 16);
}

pub fn validate_admin(s: &AdminSettings) -> Report {
    let mut errors = Vec::new();
    let stored = Stored::client_secret(
        s.client_secret_stored,
        s.stored_client_id.as_deref(),
        &s.client_id,
    );
    match s.auth_type.as_str() {
        "none" => {}
        "oauth" => {
            client_id(&mut errors, &s.client_id);
            secret(
                &mut errors,
                "client_secret",
                "client secret",
                &s.client_secret,
                stored,
                16,
            );
            redirect(
                &mut errors,
                &s.redirect_url,
                s.expected_redirect_url.as_deref(),
            );
        }
        "server-to-server" => s2s_app(
            &mut errors,
            &s.account_id,
            &s.client_id,
            &s.client_secret,
            stored,
        ),
        _ => errors.push(CoreError::field(
            "value_not_allowed",
            "auth_type",
            "auth type must be none, oauth or server-to-server",
        )),
    }
    // Whatever the mode, a stored URL is a real http(s) URL (found by the abuse review: a
    // `javascript:` URL was kept and echoed back while the mode was Server-to-Server).
    if s.auth_type != "oauth" && !s.redirect_url.is_empty() {
        // Only its form: the registered callback matters for OAuth alone.
        redirect(&mut errors, &s.redirect_url, None);
    }
    if !s.webhook_secret.is_empty() || s.webhook_secret_stored {
        secret(
            &mut errors,
            "webhook_secret",
            "webhook secret token",
            &s.webhook_secret,
            Stored::of(s.webhook_secret_stored),
            16,
        );
    }
    Report::from(errors)
}

pub fn validate_doctor(s: &DoctorSettings) -> Report {
    let mut errors = Vec::new();
    match s.auth_type.as_str() {
        "none" | "oauth" => {}
        "server-to-server" => {
            s2s_app(
                &mut errors,
                &s.account_id,
                &s.client_id,
                &s.client_secret,
                Stored::client_secret(
                    s.client_secret_stored,
                    s.stored_client_id.as_deref(),
                    &s.client_id,
                ),
            );
            if s.zoom_user.is_empty() {
                errors.push(CoreError::field(
                    "required",
                    "zoom_user",
                    "the Zoom user (email or id) that hosts this doctor's meetings is required",
                ));
            } else if s.zoom_user == "me" || validate_host(&s.zoom_user).is_err() {
                // A Server-to-Server app has no "me": the host must be named.
                errors.push(CoreError::field(
                    "host_invalid",
                    "zoom_user",
                    "Zoom user must be an email address or a Zoom user id",
                ));
            }
        }
        _ => errors.push(CoreError::field(
            "value_not_allowed",
            "auth_type",
            "auth type must be none, oauth or server-to-server",
        )),
    }
    Report::from(errors)
}

/// The clinic's meeting policy: every problem, not only the first.
pub fn validate_policy(layer: &PolicyLayer) -> Report {
    Report::from(MeetingPolicy::problems(&[layer]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(v: serde_json::Value) -> Report {
        validate_admin(&crate::json::read(v).unwrap())
    }

    #[test]
    fn oauth_needs_exact_https_redirect() {
        let ok = admin(serde_json::json!({
            "auth_type": "oauth", "client_id": "AbCdEfGhIjKl", "client_secret": "s3cr3t-s3cr3t-s3cr3t",
            "redirect_url": "https://clinic.example/cb", "expected_redirect_url": "https://clinic.example/cb"
        }));
        assert!(ok.valid, "{:?}", ok.errors);
        let slash = admin(serde_json::json!({
            "auth_type": "oauth", "client_id": "AbCdEfGhIjKl", "client_secret_stored": true,
            "redirect_url": "https://clinic.example/cb/", "expected_redirect_url": "https://clinic.example/cb"
        }));
        assert_eq!(slash.errors[0].code, "redirect_url_mismatch");
        let http = admin(serde_json::json!({
            "auth_type": "oauth", "client_id": "AbCdEfGhIjKl", "client_secret_stored": true,
            "redirect_url": "http://clinic.example/cb"
        }));
        assert_eq!(http.errors[0].code, "redirect_url_insecure");
    }

    #[test]
    fn every_missing_field_is_reported() {
        let r = admin(serde_json::json!({"auth_type": "server-to-server"}));
        let fields: Vec<_> = r.errors.iter().filter_map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["account_id", "client_id", "client_secret"]);
    }

    /// A stored secret belongs to the client id it was saved with: a form that names another
    /// app must bring that app's secret, with a message that says why (clinic and doctor alike).
    #[test]
    fn a_stored_secret_does_not_stand_for_another_apps() {
        let oauth = |client_id: &str, secret: &str| {
            admin(serde_json::json!({
                "auth_type": "oauth", "client_id": client_id, "client_secret": secret,
                "client_secret_stored": true, "stored_client_id": "AbCdEfGhIjKl",
                "redirect_url": "https://clinic.example/cb"
            }))
        };
        assert!(
            oauth("AbCdEfGhIjKl", "").valid,
            "the same app keeps its secret"
        );
        let other = oauth("ZyXwVuTsRqPo", "");
        assert_eq!(other.errors.len(), 1);
        assert_eq!(other.errors[0].code, "required");
        assert_eq!(other.errors[0].field.as_deref(), Some("client_secret"));
        assert!(other.errors[0].message.contains("client id changed"));
        assert!(oauth("ZyXwVuTsRqPo", "n3w-s3cr3t-n3w-s3cr3t").valid);
        let doctor = |client_id: &str| {
            validate_doctor(&crate::json::read(serde_json::json!({
                "auth_type": "server-to-server", "account_id": "AbCdEfGhIjKl", "client_id": client_id,
                "client_secret_stored": true, "stored_client_id": "AbCdEfGhIjKl", "zoom_user": "dr@clinic.example"
            })).unwrap())
        };
        assert!(doctor("AbCdEfGhIjKl").valid);
        assert_eq!(
            doctor("ZyXwVuTsRqPo").errors[0].field.as_deref(),
            Some("client_secret")
        );
        // Without the stored id (an older host), a stored secret counts as before.
        let legacy = admin(serde_json::json!({
            "auth_type": "server-to-server", "account_id": "AbCdEfGhIjKl", "client_id": "ZyXwVuTsRqPo",
            "client_secret_stored": true
        }));
        assert!(legacy.valid, "{:?}", legacy.errors);
    }

    #[test]
    fn s2s_doctor_must_name_the_host() {
        let r = validate_doctor(&crate::json::read(serde_json::json!({
            "auth_type": "server-to-server", "account_id": "AbCdEfGhIjKl", "client_id": "AbCdEfGhIjKl",
            "client_secret": "s3cr3t-s3cr3t-s3cr3t", "zoom_user": "me"
        })).unwrap());
        assert_eq!(r.errors[0].field.as_deref(), Some("zoom_user"));
    }
}
