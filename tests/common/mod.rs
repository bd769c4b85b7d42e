//! Shared by the integration tests (and `tools/core-fuzz`): the golden vectors, a readable
//! specification of every operation.
//!
//! Layout: `tests/vectors/<op>/<case>.json`, each `{"about", "input", "expected"}` in that
//! order (`raw` instead of `input` under `_raw/`, for requests that are not JSON). A value
//! `{"$fixture": "name", ...}` in an input is `tests/vectors/_fixtures/name.json` with the
//! other keys laid over it. A request body the core builds as JSON text is written in the
//! file as the JSON it is, and compared as such.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// `field` of Zoom's answer in an input (`last.response` in a lifecycle step, `response`
/// elsewhere), when it is there and `is` it: its path and the value.
fn zoom_answer_field<'v>(
    input: &'v mut Value,
    field: &'static str,
    is: fn(&Value) -> bool,
) -> Option<(Vec<&'static str>, &'v mut Value)> {
    let path = [vec!["last", "response", field], vec!["response", field]]
        .into_iter()
        .find(|p| p.iter().try_fold(&*input, |v, k| v.get(k)).is_some_and(is))?;
    let at = path.iter().try_fold(input, |v, k| v.get_mut(k))?;
    Some((path, at))
}

pub struct Vector {
    pub path: PathBuf,
    /// The case with its fixtures expanded and its operation: `about`, `op`, `input` (or
    /// `raw`), `expected`.
    pub case: Value,
    /// The case as the file writes it (fixtures unexpanded).
    pub file: Value,
}

impl Vector {
    /// `op/case`.
    pub fn name(&self) -> String {
        let case = self.path.file_stem().unwrap().to_string_lossy();
        let op = self
            .path
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy();
        format!("{op}/{case}")
    }

    /// The request bytes exactly as a host sends them.
    pub fn request(&self) -> Vec<u8> {
        match self.case.get("raw").and_then(Value::as_str) {
            Some(raw) => raw.as_bytes().to_vec(),
            None => self.request_with(&self.case["input"]),
        }
    }

    /// The case's operation on another input.
    fn request_with(&self, input: &Value) -> Vec<u8> {
        json!({"op": self.case["op"], "input": input})
            .to_string()
            .into_bytes()
    }

    /// The request with Zoom's answer body (`last.response.body` of a lifecycle step,
    /// `response.body` elsewhere) sent as the request's tail, as the PHP bridge sends it;
    /// `None` when the case has no such body.
    pub fn tailed_request(&self) -> Option<Vec<u8>> {
        let mut input = self.case.get("input")?.clone();
        let (path, at) = zoom_answer_field(&mut input, "body", Value::is_string)?;
        let body = std::mem::replace(at, json!("")).as_str()?.to_string();
        let mut raw = json!({"op": self.case["op"], "tail": path, "input": input})
            .to_string()
            .into_bytes();
        raw.push(0);
        raw.extend_from_slice(body.as_bytes());
        Some(raw)
    }

    /// The request with its mapping row's null fields left out, as the PHP bridge sends a row
    /// (the core reads an absent field of the row as null); `None` when the case has no row
    /// with a null field.
    pub fn row_without_nulls_request(&self) -> Option<Vec<u8>> {
        let mut input = self.case.get("input")?.clone();
        let row = input.get_mut("row")?.as_object_mut()?;
        let before = row.len();
        row.retain(|_, v| !v.is_null());
        (row.len() != before).then(|| self.request_with(&input))
    }

    /// The request with Zoom's answer carrying the headers a real answer does beyond the ones
    /// the core reads (dates, cookies, tracing, rate-limit counters); `None` when the case
    /// has no answer with headers.
    pub fn with_unread_headers_request(&self) -> Option<Vec<u8>> {
        let mut input = self.case.get("input")?.clone();
        let (_, headers) = zoom_answer_field(&mut input, "headers", Value::is_object)?;
        let headers = headers.as_object_mut()?;
        for (k, v) in [
            ("Date", "Wed, 02 Dec 2026 10:15:22 GMT"),
            ("Content-Length", "1452"),
            ("Connection", "keep-alive"),
            (
                "x-zm-trackingid",
                "v=2.0;clid=us06;rid=WEB_4c1f0d3b8a2e4f6c",
            ),
            ("X-RateLimit-Category", "Light"),
            ("X-RateLimit-Limit", "30"),
            ("X-RateLimit-Remaining", "0"),
            (
                "Set-Cookie",
                "__cf_bm=Qx2n0fKJ8aVbN6t3; path=/; HttpOnly; Secure",
            ),
            ("Strict-Transport-Security", "max-age=31536000"),
        ] {
            headers.entry(k).or_insert(json!(v));
        }
        Some(self.request_with(&input))
    }

    /// Whether the core's answer is the one on record.
    pub fn matches(&self, got: &Value) -> bool {
        same(got, &self.case["expected"])
    }

    /// Writes the core's answer as the expected one (`KCT_BLESS=1`), in the file's order.
    pub fn bless(&self, got: &Value) {
        let mut text = String::from("{\n");
        let mut first = true;
        for key in ["about", "raw", "input", "expected"] {
            let value = if key == "expected" {
                filed(got.clone())
            } else {
                match self.file.get(key) {
                    Some(v) => v.clone(),
                    None => continue,
                }
            };
            if !first {
                text.push_str(",\n");
            }
            first = false;
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            text.push_str(&format!(
                "  {}: {}",
                json!(key),
                pretty.replace('\n', "\n  ")
            ));
        }
        text.push_str("\n}\n");
        std::fs::write(&self.path, text).unwrap();
    }
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub fn vectors() -> Vec<Vector> {
    vectors_in(&dir())
}

/// Every case under `dir`, sorted by operation and name.
pub fn vectors_in(dir: &Path) -> Vec<Vector> {
    let mut out = Vec::new();
    let mut ops: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the vectors directory exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("_fixtures"))
        .collect();
    ops.sort();
    for op_dir in ops {
        let op = op_dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&op_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut case = Map::new();
            case.insert("about".into(), file["about"].clone());
            if let Some(raw) = file.get("raw") {
                case.insert("raw".into(), raw.clone());
            } else {
                case.insert("op".into(), json!(op));
                case.insert("input".into(), resolve(&file["input"], dir));
            }
            case.insert("expected".into(), file["expected"].clone());
            out.push(Vector {
                path,
                case: Value::Object(case),
                file,
            });
        }
    }
    out
}

/// Expands `{"$fixture": name, ...overrides}` wherever it appears.
pub fn resolve(v: &Value, dir: &Path) -> Value {
    match v {
        Value::Object(m) => {
            let rest: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "$fixture")
                .map(|(k, x)| (k.clone(), resolve(x, dir)))
                .collect();
            match m.get("$fixture").and_then(Value::as_str) {
                Some(name) => {
                    let path = dir.join("_fixtures").join(format!("{name}.json"));
                    let base: Value = serde_json::from_str(
                        &std::fs::read_to_string(&path)
                            .unwrap_or_else(|e| panic!("fixture {name}: {e}")),
                    )
                    .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
                    let base = resolve(&base, dir);
                    if rest.is_empty() {
                        base
                    } else {
                        merge(base, Value::Object(rest))
                    }
                }
                None => Value::Object(rest),
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, dir)).collect()),
        other => other.clone(),
    }
}

/// `over` laid over `base`: objects key by key, anything else replaced.
fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (_, over) => over,
    }
}

/// Equal, where a JSON text the core answered equals the JSON the file writes for it.
pub fn same(got: &Value, expected: &Value) -> bool {
    match (got, expected) {
        (Value::String(text), Value::Object(_) | Value::Array(_)) => {
            serde_json::from_str::<Value>(text).is_ok_and(|parsed| &parsed == expected)
        }
        (Value::Object(g), Value::Object(e)) => {
            g.len() == e.len()
                && g.iter()
                    .all(|(k, v)| e.get(k).is_some_and(|ev| same(v, ev)))
        }
        (Value::Array(g), Value::Array(e)) => {
            g.len() == e.len() && g.iter().zip(e).all(|(a, b)| same(a, b))
        }
        (g, e) => g == e,
    }
}

/// An answer as the file writes it: a request's JSON body as the JSON it is.
pub fn filed(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let request = m.contains_key("method") && m.contains_key("url");
            Value::Object(
                m.into_iter()
                    .map(|(k, x)| {
                        let x = match (&x, request && k == "body") {
                            (Value::String(text), true) => serde_json::from_str::<Value>(text)
                                .ok()
                                .filter(|b| b.is_object() || b.is_array())
                                .unwrap_or(x),
                            _ => filed(x),
                        };
                        (k, x)
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(filed).collect()),
        other => other,
    }
}
