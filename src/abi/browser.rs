//! The browser face (`pkg/`): the very validation and request-building functions the PHP
//! path calls through `dispatch`, exported with wasm-bindgen under camelCase names, with
//! TypeScript types generated from the Rust types. It translates; it decides nothing.

use crate::app_setup::{self, AppSetup, AppSetupInput};
use crate::error::CoreError;
use crate::json::FromJson;
use crate::meeting::{self, ApiAuth, AppointmentFacts, CreateInput};
use crate::policy::{MeetingPolicy, PolicyLayer};
use crate::secret::Secret;
use crate::validation::{self, AdminSettings, DoctorSettings, Report};
use serde::Serialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

/// JS values in, as the core's input types, through the very reader the PHP path uses
/// (JSON, then `json::read`): a value of the wrong shape, or a misspelt field, is the same
/// `input_invalid` error with the same message and field, thrown as `{code, message, field}`.
/// (Reading the JS object directly looked up known fields only, so unknown ones never failed.)
fn input<T: Tsify + FromJson>(v: Ts<T>) -> Result<T, JsValue> {
    let json: serde_json::Value = serde_wasm_bindgen::from_value(v.js_value())
        .map_err(|e| error(CoreError::new("input_invalid", e.to_string())))?;
    crate::json::read(json).map_err(error)
}

/// Plain JS objects out (not `Map`s, serde-wasm-bindgen's default for JSON objects, which
/// `JSON.stringify` prints as `{}`).
fn output<T: Tsify + Serialize>(v: &T) -> Result<Ts<T>, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map(Ts::new_unchecked)
        .map_err(|e| error(CoreError::new("internal", e.to_string())))
}

/// Every problem of the clinic's Zoom settings (what `PUT settings/zoom-telemed` checks).
#[wasm_bindgen(js_name = validateAdminSettings)]
pub fn validate_admin_settings(settings: Ts<AdminSettings>) -> Result<Ts<Report>, JsValue> {
    output(&validation::validate_admin(&input(settings)?))
}

/// Every problem of a doctor's own Zoom settings (what `PUT …/doctor-config` checks).
#[wasm_bindgen(js_name = validateDoctorSettings)]
pub fn validate_doctor_settings(settings: Ts<DoctorSettings>) -> Result<Ts<Report>, JsValue> {
    output(&validation::validate_doctor(&input(settings)?))
}

/// Every problem of the clinic's meeting policy.
#[wasm_bindgen(js_name = validatePolicy)]
pub fn validate_policy(policy: Ts<PolicyLayer>) -> Result<Ts<Report>, JsValue> {
    output(&validation::validate_policy(&input(policy)?))
}

/// The policy a layer makes over the defaults, every setting spelt out (`effectivePolicy({})`
/// is the defaults): the settings form shows it, and saves only what differs from them.
/// Invalid combinations are kept as they are; `validatePolicy` names them.
#[wasm_bindgen(js_name = effectivePolicy)]
pub fn effective_policy(policy: Ts<PolicyLayer>) -> Result<Ts<PolicyLayer>, JsValue> {
    let layer = input(policy)?;
    output(&MeetingPolicy::merge(&[&layer]).as_layer())
}

/// What the Zoom app needs for a mode (and whether patients are registered): the kind of
/// app, its scopes and the events to subscribe to, from the calls and events the core makes
/// and acts on.
#[wasm_bindgen(js_name = zoomAppSetup)]
pub fn zoom_app_setup(setup: Ts<AppSetupInput>) -> Result<Ts<AppSetup>, JsValue> {
    output(&app_setup::app_setup(&input(setup)?).map_err(error)?)
}

/// What the settings page shows: the meeting the server would create for an appointment.
#[derive(Debug, Tsify, FromJson)]
#[serde(deny_unknown_fields)]
pub struct MeetingPreviewInput {
    /// `me` (OAuth), or the doctor's Zoom user id or email (Server-to-Server).
    pub host: String,
    pub appointment: AppointmentFacts,
    #[serde(default)]
    pub policy: PolicyLayer,
    #[serde(default)]
    pub overrides: PolicyLayer,
}

#[derive(Debug, Serialize, Tsify)]
pub struct MeetingPreview {
    pub method: String,
    /// Against Zoom's default API origin; the real call uses the token's `api_url`.
    pub url: String,
    /// The create-meeting body, with the passcode left to the server.
    #[tsify(type = "Record<string, unknown>")]
    pub body: serde_json::Value,
}

/// The create-meeting request the server would send, or a structured error
/// `{code, message, field?}` (thrown).
#[wasm_bindgen(js_name = previewCreateMeeting)]
pub fn preview_create_meeting(
    preview: Ts<MeetingPreviewInput>,
) -> Result<Ts<MeetingPreview>, JsValue> {
    let input = input(preview)?;
    let create = CreateInput {
        auth: ApiAuth {
            access_token: Secret::new("preview"),
            api_url: "https://api.zoom.us".into(),
        },
        host: input.host,
        appointment: input.appointment,
        policy: input.policy,
        overrides: input.overrides,
        // Zeros: the preview's passcode is replaced below; the server draws a real one.
        random: "00".repeat(32),
    };
    let req = meeting::create(&create).map_err(error)?;
    let mut body: serde_json::Value =
        serde_json::from_str(&req.body.as_ref().map_or("{}".into(), |b| b.as_text()))
            .map_err(|_| error(CoreError::new("internal", "preview body is not JSON")))?;
    if body.get("password").is_some() {
        body["password"] = serde_json::Value::from("(generated by the server)");
    }
    output(&MeetingPreview {
        method: req.method.into(),
        url: req.url,
        body,
    })
}

fn error(e: CoreError) -> JsValue {
    e.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or_else(|_| JsValue::from_str(&e.message))
}

/// The core's version and ABI, to show beside the settings.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    format!("{} (ABI {})", env!("CARGO_PKG_VERSION"), super::ABI_VERSION)
}
