//! Shared by the integration tests: the golden vectors in `tests/vectors/`.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub struct Vector {
    pub path: PathBuf,
    pub case: Value,
}

impl Vector {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// The request bytes exactly as a host sends them.
    pub fn request(&self) -> Vec<u8> {
        match self.case.get("raw").and_then(Value::as_str) {
            Some(raw) => raw.as_bytes().to_vec(),
            None => json!({"op": self.case["op"], "input": self.case["input"]})
                .to_string()
                .into_bytes(),
        }
    }
}

pub fn vectors() -> Vec<Vector> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let case = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Vector { path, case }
        })
        .collect()
}
