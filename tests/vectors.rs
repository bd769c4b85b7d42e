//! Golden vectors: every case in `tests/vectors/<op>/` goes through the same JSON dispatch
//! the .wasm exports, and must produce exactly its `expected` answer (layout and fixtures:
//! `tests/common/mod.rs`). The PHP bridge replays the same files through the real .wasm.
//!
//! `KCT_BLESS=1 cargo test --test vectors` writes the current answers into the files (for
//! new cases); review the diff before committing it.

mod common;

use kc_telemed::abi::{dispatch, OPS};
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
fn every_vector_matches() {
    let bless = std::env::var("KCT_BLESS").is_ok_and(|v| v == "1");
    let vectors = common::vectors();
    assert!(vectors.len() >= 60, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let got: Value = serde_json::from_str(&dispatch(&v.request())).unwrap();
        if bless {
            v.bless(&got);
        } else if !v.matches(&got) {
            failures.push(format!(
                "{}\n  expected {}\n  got      {}",
                v.name(),
                v.case["expected"],
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every vector that `variant` sends another way (`None`: it does not apply) answers exactly
/// as the vector itself; at least `min` do.
fn same_answer_both_ways(variant: fn(&common::Vector) -> Option<Vec<u8>>, min: usize, what: &str) {
    let mut varied = 0;
    for v in &common::vectors() {
        let Some(raw) = variant(v) else {
            continue;
        };
        varied += 1;
        assert_eq!(
            dispatch(&raw),
            dispatch(&v.request()),
            "{}: {what} answers otherwise",
            v.name()
        );
    }
    assert!(varied >= min, "only {varied} vectors have {what}");
}

#[test]
fn a_zoom_body_sent_as_the_tail_answers_exactly_as_the_same_body_inline() {
    same_answer_both_ways(
        common::Vector::tailed_request,
        35,
        "Zoom's body as the tail",
    );
}

/// The bridge leaves a mapping row's null fields out of a request (a third of a booking's
/// row, and reading them a tenth of the step that reads Zoom's answer): every step with a row
/// answers the same without them. (The `mapping.*` vectors already write their rows so.)
#[test]
fn a_row_sent_without_its_null_fields_answers_exactly_as_with_them() {
    same_answer_both_ways(
        common::Vector::row_without_nulls_request,
        40,
        "a row without its nulls",
    );
}

/// The bridge hands back only the headers of Zoom's answers that `meta.info` lists: every
/// answer reads the same with the others there, so leaving them out changes nothing.
#[test]
fn zoom_answers_read_the_same_with_headers_the_core_does_not_list() {
    let listed = dispatch(br#"{"op":"meta.info","input":{}}"#);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed["ok"]["response_headers"],
        serde_json::json!(["retry-after"])
    );
    same_answer_both_ways(
        common::Vector::with_unread_headers_request,
        40,
        "Zoom's answer with headers the core does not list",
    );
}

#[test]
fn vectors_cover_every_operation_and_both_answers() {
    let vectors = common::vectors();
    let mut ops = BTreeSet::new();
    let (mut oks, mut errs) = (0, 0);
    for v in &vectors {
        if let Some(op) = v.case.get("op").and_then(Value::as_str) {
            ops.insert(op.to_string());
        }
        match v.case["expected"].as_object() {
            Some(o) if o.contains_key("ok") => oks += 1,
            Some(o) if o.contains_key("error") => errs += 1,
            _ => panic!("{}: expected is neither ok nor error", v.name()),
        }
    }
    let missing: Vec<_> = OPS
        .iter()
        .filter(|op| **op != "debug.panic" && !ops.contains(**op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a vector: {missing:?}"
    );
    assert!(oks >= 30 && errs >= 30, "ok {oks}, error {errs}");
}

#[test]
fn every_error_class_of_api_interpret_has_a_vector() {
    let actions: BTreeSet<String> = common::vectors()
        .iter()
        .filter(|v| v.case["op"] == "api.interpret")
        .filter_map(|v| {
            v.case["expected"]["ok"]["action"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    for a in [
        "done",
        "refresh_then_retry",
        "reconnect",
        "gone",
        "retry_at",
        "recover_then_retry",
        "check_stored",
        "fail",
    ] {
        assert!(actions.contains(a), "no api.interpret vector ends in {a}");
    }
}
