//! Every create/update body the golden vectors produce must validate against Zoom's own
//! request schemas (`meetingCreate`, `meetingUpdate`) in `../shared/zoom/ZoomMeetingAPISpec.json`.

mod common;

use serde_json::Value;
use zoom_spec::Spec;

#[test]
fn request_bodies_validate_against_zooms_spec() {
    // Test data the project cannot do without: missing, the test fails (never skips).
    let spec =
        Spec::from_default_location().unwrap_or_else(|e| panic!("Zoom's spec is missing: {e}"));
    let mut checked = 0;
    for v in common::vectors() {
        let op = v.case["op"].as_str().unwrap_or("");
        if !matches!(op, "meeting.create" | "meeting.update") {
            continue;
        }
        let Some(req) = v.case["expected"].get("ok") else {
            continue;
        };
        let url = req["url"].as_str().unwrap();
        let path = url.split("/v2").nth(1).unwrap().split('?').next().unwrap();
        // The file writes a JSON body as the JSON it is.
        let body: Value = req["body"].clone();
        assert!(body.is_object(), "{}: the body is JSON", v.name());
        let problems = spec
            .validate_request(req["method"].as_str().unwrap(), path, &body)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name()));
        assert!(problems.is_empty(), "{}: {problems:?}", v.name());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} bodies checked");
}
