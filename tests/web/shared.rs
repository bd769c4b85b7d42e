// The browser face's tests, shared by the Node run (web_node.rs) and the headless Chromium
// run (web_browser.rs). They call the exported functions as JavaScript would.

use kc_telemed::abi::browser::{effective_policy, preview_create_meeting, zoom_app_setup, validate_admin_settings, validate_doctor_settings, validate_policy};
use tsify::Ts;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn js(json: &str) -> JsValue {
    js_sys_parse(json)
}

// JSON.parse without pulling js-sys in: serde-wasm-bindgen turns a serde_json value into JS.
fn js_sys_parse(json: &str) -> JsValue {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

use serde::Serialize;

fn back(v: JsValue) -> serde_json::Value {
    serde_wasm_bindgen::from_value(v).unwrap()
}

#[wasm_bindgen_test]
fn admin_settings_report_every_field() {
    let r = validate_admin_settings(Ts::new_unchecked(js(r#"{"auth_type":"oauth","client_id":"x","redirect_url":"http://clinic.example/cb"}"#))).unwrap();
    let r = back(r.into());
    assert_eq!(r["valid"], false);
    let fields: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["client_id", "client_secret", "redirect_url"]);
}

#[wasm_bindgen_test]
fn valid_settings_are_valid() {
    let r = validate_admin_settings(Ts::new_unchecked(js(r#"{"auth_type":"server-to-server","account_id":"AcCoUnT_1234","client_id":"AbCdEfGhIjKl","client_secret_stored":true}"#))).unwrap();
    assert_eq!(back(r.into())["valid"], true);
    let d = validate_doctor_settings(Ts::new_unchecked(js(r#"{"auth_type":"server-to-server","account_id":"AcCoUnT_1234","client_id":"AbCdEfGhIjKl","client_secret":"s3cr3t-s3cr3t-s3cr3t","zoom_user":"me"}"#))).unwrap();
    assert_eq!(back(d.into())["errors"][0]["field"], "zoom_user");
}

#[wasm_bindgen_test]
fn a_stored_secret_is_only_its_own_apps() {
    let r = validate_admin_settings(Ts::new_unchecked(js(r#"{"auth_type":"server-to-server","account_id":"AcCoUnT_1234","client_id":"ZyXwVuTsRqPo","client_secret_stored":true,"stored_client_id":"AbCdEfGhIjKl"}"#))).unwrap();
    let r = back(r.into());
    assert_eq!(r["errors"][0]["field"], "client_secret");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("client id changed"));
}

#[wasm_bindgen_test]
fn policy_conflicts_are_named() {
    let r = validate_policy(Ts::new_unchecked(js(r#"{"join_before_host":true,"jbh_time":7}"#))).unwrap();
    let fields: Vec<String> = back(r.into())["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert!(fields.contains(&"jbh_time".to_string()) && fields.contains(&"join_before_host".to_string()));
}

#[wasm_bindgen_test]
fn the_effective_policy_spells_out_the_defaults_under_a_layer() {
    let d = back(effective_policy(Ts::new_unchecked(js("{}"))).unwrap().into());
    assert_eq!(d["waiting_room"], true);
    assert_eq!(d["auto_recording"], "none");
    assert_eq!(d["passcode_length"], 10);
    let p = back(effective_policy(Ts::new_unchecked(js(r#"{"waiting_room":false,"auto_recording":"cloud"}"#))).unwrap().into());
    assert_eq!(p["waiting_room"], false);
    assert_eq!(p["auto_recording"], "cloud");
    assert_eq!(p["mute_upon_entry"], d["mute_upon_entry"]);
    // A misspelt setting is the same error validatePolicy throws.
    let e = back(effective_policy(Ts::new_unchecked(js(r#"{"waitingroom":false}"#))).unwrap_err());
    assert_eq!(e["code"], "input_invalid");
}

#[wasm_bindgen_test]
fn the_zoom_app_setup_follows_the_mode() {
    let s = back(zoom_app_setup(Ts::new_unchecked(js(r#"{"auth_type":"server-to-server","register_patient":true}"#))).unwrap().into());
    assert_eq!(s["app_type"], "server_to_server");
    assert!(s["scopes"].as_array().unwrap().iter().any(|x| x == "meeting:write:registrant:admin"));
    assert!(s["events"].as_array().unwrap().iter().any(|x| x == "meeting.participant_joined"));
    let e = back(zoom_app_setup(Ts::new_unchecked(js(r#"{"auth_type":"none"}"#))).unwrap_err());
    assert_eq!(e["field"], "auth_type");
}

#[wasm_bindgen_test]
fn wrong_shapes_throw_structured_errors() {
    let e = validate_policy(Ts::new_unchecked(js(r#"{"waitingroom":true}"#))).unwrap_err();
    let e = back(e);
    assert_eq!(e["code"], "input_invalid");
    assert!(e["message"].as_str().unwrap().contains("waitingroom"));
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON)]
    fn stringify(v: &JsValue) -> JsValue;
}

/// Found by the end-to-end test: the preview's body reached JavaScript as a `Map`, which
/// `JSON.stringify` printed as `{}`.
#[wasm_bindgen_test]
fn outputs_are_plain_objects() {
    let p = preview_create_meeting(Ts::new_unchecked(js(r#"{"host":"me","appointment":{"id":42,"start_unix":1767261600,"duration_min":30,"timezone":"UTC","correlation_ref":"kc-0123456789abcdef0123"}}"#))).unwrap();
    let text = stringify(&p.into()).as_string().unwrap();
    assert!(text.contains(r#""waiting_room":true"#), "{text}");
}

#[wasm_bindgen_test]
fn preview_is_the_servers_request_in_utc() {
    let p = preview_create_meeting(Ts::new_unchecked(js(r#"{"host":"me","appointment":{"id":42,"start_unix":1767261600,"duration_min":30,"timezone":"Asia/Kolkata","correlation_ref":"kc-0123456789abcdef0123"}}"#))).unwrap();
    let p = back(p.into());
    assert_eq!(p["method"], "POST");
    assert_eq!(p["url"], "https://api.zoom.us/v2/users/me/meetings");
    assert_eq!(p["body"]["start_time"], "2026-01-01T10:00:00Z");
    assert_eq!(p["body"]["password"], "(generated by the server)");
    let e = back(preview_create_meeting(Ts::new_unchecked(js(r#"{"host":"me","appointment":{"id":1,"start_unix":1767261600,"duration_min":0,"timezone":"UTC","correlation_ref":"kc-0123456789abcdef0123"}}"#))).unwrap_err());
    assert_eq!(e["field"], "appointment.duration_min");
}
