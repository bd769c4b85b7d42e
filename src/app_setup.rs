//! What the clinic's Zoom app must be set up with: which kind of app, the scopes of every
//! call the core makes in that mode, and the events the webhook acts on. The settings page
//! shows it, so an administrator sets the app up from the same list the core calls with.

use crate::api::Operation;
use crate::error::{CoreError, Result};
use crate::json::FromJson;
use crate::webhook;
use serde::Serialize;

#[derive(Debug, Default, FromJson)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct AppSetupInput {
    /// `oauth` or `server-to-server` (the clinic's mode, or a doctor's own app).
    pub auth_type: String,
    /// The policy registers patients: the registrant scope is needed too.
    #[serde(default)]
    pub register_patient: bool,
    /// The `scope` of a token Zoom issued for the app: `missing` then says what it lacks.
    #[serde(default)]
    pub granted: Option<String>,
}

#[derive(Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
pub struct AppSetup {
    /// `general` (a user-managed General app, one connection per doctor) or
    /// `server_to_server` (a Server-to-Server OAuth app of the clinic's account).
    pub app_type: &'static str,
    /// Zoom's granular scopes, one per kind of call (`…:admin` for Server-to-Server).
    pub scopes: Vec<String>,
    /// The events to subscribe the webhook to.
    pub events: Vec<&'static str>,
    /// With `granted`: the scopes the app's token lacks (a classic scope such as
    /// `meeting:write` covers its granular ones). Empty: every call will be allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

/// The calls the core makes with an app's token, in the order a meeting meets them.
const CALLS: [Operation; 7] = [
    Operation::CreateMeeting,
    Operation::UpdateMeeting,
    Operation::DeleteMeeting,
    Operation::GetMeeting,
    Operation::ListMeetings,
    Operation::GetUser,
    Operation::AddRegistrant,
];

/// The kind of app for a mode, and the suffix of its scopes.
fn mode(auth_type: &str) -> Result<(&'static str, &'static str)> {
    match auth_type {
        "oauth" => Ok(("general", "")),
        "server-to-server" => Ok(("server_to_server", ":admin")),
        _ => Err(CoreError::field(
            "value_not_allowed",
            "auth_type",
            "auth type must be oauth or server-to-server",
        )),
    }
}

/// Each call the app's token must be allowed, with the scope that allows it in this mode.
fn needed(input: &AppSetupInput, suffix: &str) -> Vec<(Operation, String)> {
    CALLS
        .into_iter()
        .filter(|op| input.register_patient || *op != Operation::AddRegistrant)
        .filter_map(|op| Some((op, [op.scope()?, suffix].concat())))
        .collect()
}

/// The scopes `granted` (a token's `scope`) lacks for the calls of this mode, in the order
/// a meeting meets them; a classic scope such as `meeting:write` covers its granular ones.
/// The server checks a Server-to-Server app's token with it (`app.missing_scopes`). Written
/// with plain loops: it ships in the server `.wasm`, whose size is guarded.
pub fn missing_scopes(input: &AppSetupInput) -> Result<Vec<String>> {
    let (_, suffix) = mode(&input.auth_type)?;
    let granted = input.granted.as_deref().unwrap_or("");
    // `scope` + `suffix` is one of the granted scopes.
    let has = |scope: &str| {
        granted
            .split(' ')
            .any(|g| g.strip_prefix(scope) == Some(suffix))
    };
    let mut missing = Vec::new();
    for op in CALLS {
        if op == Operation::AddRegistrant && !input.register_patient {
            continue;
        }
        let (Some(scope), Some(classic)) = (op.scope(), op.classic_scope()) else {
            continue;
        };
        if !has(scope) && !has(classic) {
            let mut s = String::with_capacity(scope.len() + suffix.len());
            s.push_str(scope);
            s.push_str(suffix);
            missing.push(s);
        }
    }
    Ok(missing)
}

pub fn app_setup(input: &AppSetupInput) -> Result<AppSetup> {
    let (app_type, suffix) = mode(&input.auth_type)?;
    let scopes = needed(input, suffix).into_iter().map(|(_, s)| s).collect();
    let missing = match input.granted {
        Some(_) => Some(missing_scopes(input)?),
        None => None,
    };
    let events = webhook::EVENTS
        .iter()
        .copied()
        // Only user-managed apps are deauthorized by a user; a Server-to-Server app is not.
        .filter(|e| app_type == "general" || *e != webhook::DEAUTHORIZED)
        .collect();
    Ok(AppSetup {
        app_type,
        scopes,
        events,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(auth_type: &str, register_patient: bool) -> AppSetup {
        app_setup(&AppSetupInput {
            auth_type: auth_type.into(),
            register_patient,
            granted: None,
        })
        .unwrap()
    }

    fn missing(auth_type: &str, register_patient: bool, granted: &str) -> Vec<String> {
        app_setup(&AppSetupInput {
            auth_type: auth_type.into(),
            register_patient,
            granted: Some(granted.into()),
        })
        .unwrap()
        .missing
        .unwrap()
    }

    #[test]
    fn a_token_with_every_scope_lacks_none() {
        let all = setup("server-to-server", true).scopes.join(" ");
        assert_eq!(
            missing("server-to-server", true, &all),
            Vec::<String>::new()
        );
        assert_eq!(
            setup("oauth", false).missing,
            None,
            "nothing granted, nothing said"
        );
    }

    #[test]
    fn what_a_token_lacks_is_named_in_the_order_a_meeting_meets_it() {
        let some = "meeting:write:meeting:admin meeting:read:meeting:admin user:read:user:admin";
        assert_eq!(
            missing("server-to-server", false, some),
            [
                "meeting:update:meeting:admin",
                "meeting:delete:meeting:admin",
                "meeting:read:list_meetings:admin"
            ]
        );
        // A user's scope does not stand for an admin's.
        assert_eq!(
            missing("server-to-server", false, "user:read:user").len(),
            6
        );
    }

    #[test]
    fn classic_scopes_cover_their_granular_ones() {
        assert_eq!(
            missing("oauth", true, "meeting:write meeting:read user:read"),
            Vec::<String>::new()
        );
        assert_eq!(
            missing(
                "server-to-server",
                false,
                "meeting:write:admin user:read:admin"
            ),
            [
                "meeting:read:meeting:admin",
                "meeting:read:list_meetings:admin"
            ]
        );
    }

    #[test]
    fn a_general_app_needs_the_user_scopes_and_the_deauthorization_event() {
        let s = setup("oauth", false);
        assert_eq!(s.app_type, "general");
        assert_eq!(
            s.scopes,
            [
                "meeting:write:meeting",
                "meeting:update:meeting",
                "meeting:delete:meeting",
                "meeting:read:meeting",
                "meeting:read:list_meetings",
                "user:read:user"
            ]
        );
        assert!(s.events.contains(&"app_deauthorized"));
        assert!(s.events.contains(&"meeting.participant_joined"));
    }

    #[test]
    fn a_server_to_server_app_needs_the_admin_scopes_and_no_deauthorization() {
        let s = setup("server-to-server", true);
        assert_eq!(s.app_type, "server_to_server");
        assert!(s.scopes.iter().all(|x| x.ends_with(":admin")));
        assert!(s
            .scopes
            .contains(&"meeting:write:registrant:admin".to_string()));
        assert!(!s.events.contains(&"app_deauthorized"));
    }

    #[test]
    fn registering_patients_adds_the_registrant_scope() {
        assert!(!setup("oauth", false)
            .scopes
            .iter()
            .any(|s| s.contains("registrant")));
        assert!(setup("oauth", true)
            .scopes
            .contains(&"meeting:write:registrant".to_string()));
    }

    #[test]
    fn every_api_call_has_a_scope_and_token_calls_none() {
        for op in CALLS {
            assert!(op.scope().is_some(), "{op:?}");
        }
        for op in [
            Operation::ExchangeCode,
            Operation::RefreshToken,
            Operation::S2sToken,
            Operation::Revoke,
        ] {
            assert_eq!(op.scope(), None, "{op:?}");
        }
    }

    #[test]
    fn no_mode_names_the_field() {
        let e = app_setup(&AppSetupInput::default()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("auth_type"));
    }
}
