//! Zoom's OpenAPI export, read in place from `../shared/zoom/` (never copied into the
//! repository), and a strict validator for the schema keywords that export uses.
//!
//! Strict means stricter than Zoom in one way on purpose: a property the schema does not
//! declare is an error, so a misspelt field fails a test instead of being ignored.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub struct Spec {
    root: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON-pointer-like path of the offending value (`/settings/jbh_time`).
    pub path: String,
    pub message: String,
}

/// Where the spec lives: `$ZOOM_SPEC`, else `shared/zoom/ZoomMeetingAPISpec.json` next to an
/// ancestor of this crate (the project's `../shared`).
pub fn locate() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ZOOM_SPEC") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/zoom/ZoomMeetingAPISpec.json"))
        .find(|p| p.is_file())
}

/// Fields newer than the export (Oct 2023) that Zoom documents and this project sends: since
/// March 2026 omitted AI Companion fields inherit the account's defaults, so a patient visit
/// turns them off explicitly (ZOOM-FACTS, "Settings Zoom now fills in"). Accepted by name, in
/// the `settings` of a meeting create and update; nothing else unknown is.
pub const DOCUMENTED_EXTENSIONS: &[(&str, &str, &str)] = &[
    (
        "/users/{userId}/meetings",
        "post",
        "auto_start_meeting_summary",
    ),
    (
        "/users/{userId}/meetings",
        "post",
        "auto_start_ai_companion_questions",
    ),
    (
        "/meetings/{meetingId}",
        "patch",
        "auto_start_meeting_summary",
    ),
    (
        "/meetings/{meetingId}",
        "patch",
        "auto_start_ai_companion_questions",
    ),
];

impl Spec {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let root: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if root.get("paths").and_then(Value::as_object).is_none() {
            return Err(format!(
                "{}: no paths: not an OpenAPI document",
                path.display()
            ));
        }
        let mut spec = Self { root };
        spec.extend();
        Ok(spec)
    }

    /// Adds [`DOCUMENTED_EXTENSIONS`] to the meeting settings schemas, as booleans.
    fn extend(&mut self) {
        for (template, method, field) in DOCUMENTED_EXTENSIONS {
            let pointer = format!(
                "/paths/{}/{method}/requestBody/content/application~1json/schema/properties/settings/properties",
                template.replace('~', "~0").replace('/', "~1")
            );
            if let Some(props) = self
                .root
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut)
            {
                props.insert(
                    (*field).to_string(),
                    serde_json::json!({"type": "boolean", "description": "documented extension (ZOOM-FACTS)"}),
                );
            }
        }
    }

    pub fn from_default_location() -> Result<Self, String> {
        let p = locate().ok_or("ZoomMeetingAPISpec.json not found (set ZOOM_SPEC or keep ../shared beside the project)")?;
        Self::load(&p)
    }

    /// The operation for a method and a concrete path (`/users/me/meetings`), with the path
    /// template it matched (`/users/{userId}/meetings`).
    pub fn operation(&self, method: &str, path: &str) -> Option<(&str, &Value)> {
        let method = method.to_ascii_lowercase();
        let want: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.root["paths"].as_object()?;
        let mut best: Option<(&str, &Value, usize)> = None;
        for (template, item) in paths {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != want.len() {
                continue;
            }
            let mut literal = 0;
            let ok = parts.iter().zip(&want).all(|(t, w)| {
                if t.starts_with('{') {
                    !w.is_empty()
                } else {
                    literal += 1;
                    t == w
                }
            });
            if let (true, Some(op)) = (ok, item.get(&method)) {
                // Prefer the most literal template (`/users/me` is not `/users/{id}/x`).
                if best.is_none_or(|b| literal > b.2) {
                    best = Some((template.as_str(), op, literal));
                }
            }
        }
        best.map(|(t, op, _)| (t, op))
    }

    /// What Zoom's answer schema for `method path` with `status` gives as the `default` of each
    /// scalar property of the object at `pointer` (`/properties/settings`): what Zoom puts in
    /// its answer for a field the request left out.
    pub fn answer_defaults(
        &self,
        method: &str,
        path: &str,
        status: &str,
        pointer: &str,
    ) -> Result<Map<String, Value>, String> {
        let (template, op) = self
            .operation(method, path)
            .ok_or_else(|| format!("no operation {method} {path} in Zoom's spec"))?;
        let props = op
            .pointer(&format!(
                "/responses/{status}/content/application~1json/schema{pointer}/properties"
            ))
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{method} {template} {status}: no object at {pointer}"))?;
        Ok(props
            .iter()
            .filter(|(_, p)| !matches!(p["type"].as_str(), Some("object" | "array")))
            .filter_map(|(k, p)| Some((k.clone(), p.get("default")?.clone())))
            .collect())
    }

    /// The JSON request-body schema of an operation, if it takes one.
    pub fn request_schema<'a>(&'a self, op: &'a Value) -> Option<&'a Value> {
        op.pointer("/requestBody/content/application~1json/schema")
    }

    /// Validates a body against the request schema of `method path`. `Err` if the spec has
    /// no such operation or the operation takes no JSON body.
    pub fn validate_request(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<Vec<Violation>, String> {
        let (_, op) = self
            .operation(method, path)
            .ok_or_else(|| format!("no operation {method} {path} in Zoom's spec"))?;
        let schema = self
            .request_schema(op)
            .ok_or_else(|| format!("{method} {path} takes no JSON body in Zoom's spec"))?;
        let mut out = Vec::new();
        validate(schema, body, "", &mut out);
        Ok(out)
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => true,
    }
}

/// Zoom's `date-time`: `yyyy-MM-ddTHH:mm:ss` with an optional `Z`.
fn date_time_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    let base = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    base && matches!(&s[19..], "" | "Z")
}

pub fn validate(schema: &Value, v: &Value, path: &str, out: &mut Vec<Violation>) {
    let mut push = |m: String| {
        out.push(Violation {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            message: m,
        })
    };
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        if !type_ok(ty, v) {
            push(format!("expected {ty}, got {v}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            push(format!(
                "{v} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if n > max {
                push(format!("length {n} exceeds maxLength {max}"));
            }
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if n < min {
                push(format!("length {n} is below minLength {min}"));
            }
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time") && !date_time_ok(s) {
            push(format!("{s:?} is not a date-time"));
        }
    }
    if let Some(x) = v.as_f64() {
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            if x > max {
                push(format!("{x} exceeds maximum {max}"));
            }
        }
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            if x < min {
                push(format!("{x} is below minimum {min}"));
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                push(format!("{} items exceed maxItems {max}", items.len()));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(item_schema, item, &format!("{path}/{i}"), out);
            }
        }
        return;
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    out.push(Violation {
                        path: format!("{path}/{r}"),
                        message: "required property is missing".into(),
                    });
                }
            }
        }
        if let Some(props) = props {
            for (k, val) in obj {
                match props.get(k) {
                    Some(s) => validate(s, val, &format!("{path}/{k}"), out),
                    None => out.push(Violation {
                        path: format!("{path}/{k}"),
                        message: "property is not in Zoom's schema".into(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The spec is test data the project cannot work without: missing, the test fails.
    fn spec() -> Spec {
        Spec::from_default_location().unwrap_or_else(|e| panic!("Zoom's spec is missing: {e}"))
    }

    #[test]
    fn finds_meeting_operations() {
        let s = spec();
        assert_eq!(
            s.operation("POST", "/users/me/meetings").unwrap().0,
            "/users/{userId}/meetings"
        );
        assert_eq!(
            s.operation("PATCH", "/meetings/123").unwrap().0,
            "/meetings/{meetingId}"
        );
        assert!(s.operation("PUT", "/nope").is_none());
    }

    #[test]
    fn a_created_meetings_setting_defaults_come_from_the_answer_schema() {
        let s = spec();
        let d = s
            .answer_defaults("POST", "/users/me/meetings", "201", "/properties/settings")
            .unwrap();
        assert_eq!(d["approval_type"], json!(2));
        assert_eq!(d["audio"], json!("both"));
        assert_eq!(d["waiting_room"], json!(false));
        // Only scalars with a documented default: no objects, no lists, nothing undocumented.
        assert!(!d.contains_key("breakout_room") && !d.contains_key("global_dial_in_numbers"));
        assert!(
            !d.contains_key("host_video"),
            "the spec gives host_video no default"
        );
        assert!(s
            .answer_defaults("POST", "/users/me/meetings", "201", "/properties/nope")
            .is_err());
    }

    #[test]
    fn strict_about_zoom_limits_and_unknown_fields() {
        let s = spec();
        let ok = json!({"topic": "t", "type": 2, "start_time": "2026-01-01T10:00:00Z", "duration": 30,
            "settings": {"jbh_time": 5, "waiting_room": true}});
        assert_eq!(
            s.validate_request("POST", "/users/me/meetings", &ok)
                .unwrap(),
            vec![]
        );
        let bad = json!({"topic": "x".repeat(201), "type": 4, "password": "12345678901",
            "start_time": "01/01/2026", "settings": {"jbh_time": 7, "waitingroom": true}});
        let v = s
            .validate_request("POST", "/users/me/meetings", &bad)
            .unwrap();
        let paths: Vec<_> = v.iter().map(|v| v.path.as_str()).collect();
        for p in [
            "/topic",
            "/type",
            "/password",
            "/start_time",
            "/settings/jbh_time",
            "/settings/waitingroom",
        ] {
            assert!(paths.contains(&p), "{p} not flagged in {v:?}");
        }
    }
}

#[cfg(test)]
mod extension_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_ai_fields_are_accepted_by_name_and_nothing_else_unknown() {
        let s =
            Spec::from_default_location().unwrap_or_else(|e| panic!("Zoom's spec is missing: {e}"));
        let body = json!({"topic": "t", "type": 2, "start_time": "2026-01-01T10:00:00Z", "duration": 30,
            "settings": {"auto_start_meeting_summary": false, "auto_start_ai_companion_questions": false}});
        assert_eq!(
            s.validate_request("POST", "/users/me/meetings", &body)
                .unwrap(),
            vec![]
        );
        let patch = json!({"settings": {"auto_start_meeting_summary": false}});
        assert_eq!(
            s.validate_request("PATCH", "/meetings/1", &patch).unwrap(),
            vec![]
        );
        let wrong = json!({"topic": "t", "settings": {"auto_start_meeting_summary": "no", "auto_start_ai_summary": false}});
        let v = s
            .validate_request("POST", "/users/me/meetings", &wrong)
            .unwrap();
        let paths: Vec<_> = v.iter().map(|v| v.path.as_str()).collect();
        assert!(
            paths.contains(&"/settings/auto_start_meeting_summary"),
            "a boolean: {v:?}"
        );
        assert!(
            paths.contains(&"/settings/auto_start_ai_summary"),
            "unknown: {v:?}"
        );
    }
}
