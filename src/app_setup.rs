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

pub fn app_setup(input: &AppSetupInput) -> Result<AppSetup> {
    let (app_type, suffix) = match input.auth_type.as_str() {
        "oauth" => ("general", ""),
        "server-to-server" => ("server_to_server", ":admin"),
        _ => {
            return Err(CoreError::field(
                "value_not_allowed",
                "auth_type",
                "auth type must be oauth or server-to-server",
            ))
        }
    };
    let scopes = CALLS
        .iter()
        .filter(|op| input.register_patient || **op != Operation::AddRegistrant)
        .filter_map(|op| op.scope())
        .map(|s| format!("{s}{suffix}"))
        .collect();
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(auth_type: &str, register_patient: bool) -> AppSetup {
        app_setup(&AppSetupInput {
            auth_type: auth_type.into(),
            register_patient,
        })
        .unwrap()
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
