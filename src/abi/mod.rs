//! The JSON face of the core. One entry point, [`dispatch`]: `{"op": .., "input": ..}` in,
//! `{"ok": ..}` or `{"error": {code, message, field?}}` out. The .wasm exports it (see
//! `wasm`), and the golden vectors in `tests/vectors/<op>/` replay through it, so the PHP side
//! can replay them unchanged. This module translates; it decides nothing.

use crate::error::{CoreError, Result};
use crate::json::write;
use crate::json::{self, FromJson, Json};
use crate::{
    api, connection, lifecycle, mapping, meeting, oauth, reconcile, token, validation, visit,
    webhook,
};
use serde::Serialize;
use serde_json::json;

// The PHP build's raw exports; the browser build has wasm-bindgen's instead.
#[cfg(feature = "browser")]
pub mod browser;
#[cfg(all(target_arch = "wasm32", not(feature = "browser")))]
mod wasm;

/// Lets go of a value made during this call. In the PHP build, while this call's arena holds
/// every allocation the call made, freeing is a no-op anyway: the value is forgotten rather
/// than walked field by field to free nothing (in the interpreter that walk was several per
/// cent of a call). Elsewhere, or once the call has spilled past its arena, it is dropped.
#[inline(always)]
pub(crate) fn discard<T>(v: T) {
    #[cfg(all(target_arch = "wasm32", not(feature = "browser")))]
    if wasm::arena_holds_this_call() {
        std::mem::forget(v);
        return;
    }
    drop(v);
}

/// Bumped whenever an operation's input or output changes shape.
pub const ABI_VERSION: u32 = 7;
/// Largest request the core accepts: far above any real input, small enough to bound work.
pub const MAX_INPUT: usize = 1 << 20;

/// Every operation, by name. Hosts can ask for this list (`meta.info`).
pub const OPS: &[&str] = &[
    "meta.info",
    "meeting.create",
    "meeting.update",
    "meeting.delete",
    "meeting.get",
    "meeting.list",
    "meeting.add_registrant",
    "user.get",
    "oauth.authorize",
    "oauth.verify_state",
    "oauth.exchange_code",
    "oauth.refresh",
    "oauth.s2s_token",
    "oauth.revoke",
    "token.decide",
    "token.after_refresh_failure",
    "connection.change",
    "api.interpret",
    "lifecycle.step",
    "reconcile.orphans",
    "webhook.handle",
    "visit.apply",
    "mapping.start_link",
    "mapping.apply_event",
    "settings.validate_admin",
    "settings.validate_doctor",
    "policy.validate",
    "app.missing_scopes",
    "debug.panic",
];

/// Says where the text stops being JSON, never what it says there: it may be a secret.
fn syntax_error(e: &json::SyntaxError) -> CoreError {
    CoreError::new("json_invalid", format!("request is not valid JSON ({e})"))
}

/// The whole answer, `{"ok":value}`, written in one buffer straight from the operation's
/// output type.
fn out<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    write::to_json_within("{\"ok\":", v, "}")
        .map_err(|_| CoreError::new("internal", "result could not be encoded"))
}

/// One operation: read its input, run it, encode its output. Kept out of line so each
/// operation is its own function in the .wasm: a lazily compiling runtime then translates
/// only the operations a request uses, not all of them inlined into `call`.
#[inline(never)]
fn run<I: FromJson, O: Serialize>(input: Json, f: impl FnOnce(&I) -> Result<O>) -> Result<String> {
    let input = json::read(input)?;
    let answer = f(&input).and_then(|o| {
        let text = out(&o);
        discard(o);
        text
    });
    discard(input);
    answer
}

/// An operation's entry point.
type Op = fn(Json) -> Result<String>;

/// The operation for a name. Returning function pointers (rather than calling in a `match`)
/// keeps each operation a separate function even after `wasm-opt` (which inlines functions
/// with a single call site): a lazily compiling runtime then translates only what a request
/// runs, instead of one function holding the whole core.
fn lookup(op: &str) -> Option<Op> {
    Some(match op {
        "meta.info" => |_| {
            out(&json!({
                "abi_version": ABI_VERSION,
                "core_version": env!("CARGO_PKG_VERSION"),
                "max_input": MAX_INPUT,
                "ops": OPS,
                "response_headers": api::RESPONSE_HEADERS,
            }))
        },
        "meeting.create" => |i| run(i, meeting::create),
        "meeting.update" => |i| run(i, meeting::update),
        "meeting.delete" => |i| run(i, meeting::delete),
        "meeting.get" => |i| run(i, meeting::get),
        "meeting.list" => |i| run(i, meeting::list),
        "meeting.add_registrant" => |i| run(i, meeting::add_registrant),
        "user.get" => |i| run(i, meeting::get_user),
        "oauth.authorize" => |i| run(i, oauth::authorize),
        "oauth.verify_state" => |i| run(i, oauth::verify_state),
        "oauth.exchange_code" => |i| run(i, oauth::exchange_code),
        "oauth.refresh" => |i| run(i, oauth::refresh),
        "oauth.s2s_token" => |i| run(i, oauth::s2s_token),
        "oauth.revoke" => |i| run(i, oauth::revoke),
        "token.decide" => |i| run(i, |i| Ok(token::decide(i))),
        "token.after_refresh_failure" => |i| run(i, |i| Ok(token::after_refresh_failure(i))),
        "connection.change" => |i| run(i, |i| Ok(connection::change(i))),
        "api.interpret" => |i| run(i, api::interpret),
        "webhook.handle" => |i| run(i, webhook::handle),
        "visit.apply" => |i| run(i, visit::apply),
        "lifecycle.step" => |i| run(i, lifecycle::run),
        "reconcile.orphans" => |i| run(i, |i| Ok(reconcile::orphans(i))),
        "mapping.start_link" => |i| run(i, |i| Ok(mapping::start_link(i))),
        "mapping.apply_event" => |i| run(i, mapping::apply_event),
        "settings.validate_admin" => |i| run(i, |i| Ok(validation::validate_admin(i))),
        "settings.validate_doctor" => |i| run(i, |i| Ok(validation::validate_doctor(i))),
        "policy.validate" => |i| run(i, |i| Ok(validation::validate_policy(i))),
        "app.missing_scopes" => |i| run(i, crate::app_setup::missing_scopes),
        // Lets a host prove it survives a guest trap and reads the panic message.
        "debug.panic" => |_| panic!("debug.panic was called: this trap is deliberate"),
        _ => return None,
    })
}

/// Runs one operation on its input; the answer comes back as JSON text, `{"ok":..}`.
pub fn call(op: &str, input: Json) -> Result<String> {
    match lookup(op) {
        Some(f) => f(input),
        None => Err(CoreError::field(
            "unknown_op",
            "op",
            format!(
                "unknown operation {:?}",
                op.chars().take(64).collect::<String>()
            ),
        )),
    }
}

/// The answer as text: a success is already the whole answer.
fn envelope(r: Result<String>) -> String {
    match r {
        Ok(answer) => answer,
        Err(e) => match write::to_json_within("{\"error\":", &e, "}") {
            Ok(answer) => answer,
            Err(_) => {
                r#"{"error":{"code":"internal","message":"answer could not be encoded"}}"#.into()
            }
        },
    }
}

/// The whole request as bytes in, the whole answer as JSON text out. Never panics on bad
/// input: malformed JSON, a missing op or an oversized request is an error answer.
///
/// A request may carry one text after its JSON, behind a NUL byte (which JSON text never
/// holds): its *tail*, which the envelope's `"tail"` (a list of keys) puts in place of the
/// text at that path in the input. A host hands Zoom's answer body over that way: as it came,
/// instead of escaped into a JSON string that the core then unescapes before reading it as
/// JSON again. A tail that is not UTF-8 reads as an empty text (a body that should hold
/// JSON then fails to read, as any other unreadable body does).
pub fn dispatch(raw: &[u8]) -> String {
    if raw.len() > MAX_INPUT {
        return envelope(Err(CoreError::new(
            "input_too_large",
            format!("request is {} bytes; the limit is {MAX_INPUT}", raw.len()),
        )));
    }
    let (text, lossy_tail) = match json::parse::utf8(raw) {
        Some(text) => (text, None),
        None => match split_tail(raw) {
            // A tail that is not UTF-8 is nothing Zoom meant: it reads as empty, which no
            // answer that carries a body can be read from.
            Some(text) => (text, Some(std::borrow::Cow::Borrowed(""))),
            None => return envelope(Err(CoreError::new("json_invalid", "request is not UTF-8"))),
        },
    };
    // Parsed once; each operation then takes its input's fields out of the tree.
    let (req, tail) = match json::parse::parse_prefix(text) {
        Ok((Json::Obj(req), end)) => match text.as_bytes().get(end) {
            None => (req, lossy_tail),
            Some(0) => (
                req,
                Some(lossy_tail.unwrap_or(std::borrow::Cow::Borrowed(&text[end + 1..]))),
            ),
            // Not a tail: the same syntax error as a whole-text parse gives.
            Some(_) => return envelope(Err(syntax_error(&json::parse::trailing_error(text, end)))),
        },
        Ok(_) => {
            return envelope(Err(CoreError::new(
                "json_invalid",
                "request must be a JSON object",
            )))
        }
        Err(e) => return envelope(Err(syntax_error(&e))),
    };
    // The top level is read leniently: only `op`, `input` and `tail` matter.
    let (mut op, mut input, mut path) = (None, None, None);
    for (k, v) in req {
        match k.as_ref() {
            "op" => op = Some(v),
            "input" => input = Some(v),
            "tail" => path = Some(v),
            _ => {}
        }
    }
    let op = match op {
        Some(Json::Str(op)) => op,
        Some(_) => {
            return envelope(Err(CoreError::field(
                "op_missing",
                "op",
                "\"op\" must be a string",
            )))
        }
        None => {
            return envelope(Err(CoreError::field(
                "op_missing",
                "op",
                "request has no \"op\"",
            )))
        }
    };
    let mut input = input.unwrap_or(Json::Obj(Vec::new()));
    if let Err(e) = place_tail(&mut input, path, tail) {
        return envelope(Err(e));
    }
    envelope(call(&op, input))
}

/// The JSON part of a request that is not UTF-8 as a whole, up to and with its first NUL
/// (where `dispatch` looks for it), if that part is UTF-8: only the tail is not.
fn split_tail(raw: &[u8]) -> Option<&str> {
    let at = raw.iter().position(|&b| b == 0)?;
    json::parse::utf8(&raw[..=at])
}

/// Puts the request's tail where its envelope's `"tail"` says, in place of the text there.
/// Each without the other is an error, as is a path that does not name a text.
fn place_tail<'a>(
    input: &mut Json<'a>,
    path: Option<Json<'a>>,
    tail: Option<std::borrow::Cow<'a, str>>,
) -> Result<()> {
    let bad = |m: &str| Err(CoreError::field("input_invalid", "tail", m.to_string()));
    let (path, tail) = match (path, tail) {
        (None, None) => return Ok(()),
        (Some(Json::Arr(path)), Some(tail)) => (path, tail),
        (Some(Json::Arr(_)), None) => {
            return bad("\"tail\" says where the request's tail goes, but the request has none (a NUL byte and a text after its JSON)")
        }
        (Some(_), _) => return bad("\"tail\" must be a list of keys"),
        (None, Some(_)) => {
            return bad("the request has a tail (text after a NUL byte) but no \"tail\" saying where in the input it goes")
        }
    };
    let mut at = input;
    for key in &path {
        let Json::Str(key) = key else {
            return bad("\"tail\" must be a list of keys");
        };
        let Json::Obj(fields) = at else {
            return bad("\"tail\" names a key in something that is not an object");
        };
        // The last of a repeated key, as the readers take it.
        match fields.iter_mut().rev().find(|(k, _)| k == key) {
            Some((_, v)) => at = v,
            None => return bad("\"tail\" names a key the input does not have"),
        }
    }
    match at {
        Json::Str(s) => {
            *s = tail;
            Ok(())
        }
        _ => bad("\"tail\" must name a text in the input (the placeholder the tail replaces)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_answers_not_panics() {
        assert!(dispatch(b"{not json").contains("json_invalid"));
        assert!(dispatch(b"{}").contains("op_missing"));
        assert!(dispatch(br#"{"op":"nope"}"#).contains("unknown_op"));
        assert!(dispatch(&vec![b' '; MAX_INPUT + 1]).contains("input_too_large"));
    }

    fn interpret_with_tail(path: &str, body: &[u8]) -> String {
        let mut raw = format!(
            r#"{{"op":"api.interpret","tail":{path},"input":{{"operation":"create_meeting","now":1000000,"random":"0700000000000000","response":{{"status":201,"headers":{{}},"body":""}}}}}}"#
        )
        .into_bytes();
        raw.push(0);
        raw.extend_from_slice(body);
        dispatch(&raw)
    }

    #[test]
    fn a_tail_takes_the_place_of_the_text_its_path_names() {
        let body =
            br#"{"id": 5, "join_url": "https://zoom.us/j/5", "topic": "a \"quoted\" topic"}"#;
        let tailed = interpret_with_tail(r#"["response","body"]"#, body);
        let inline = dispatch(
            serde_json::to_string(&json!({"op": "api.interpret", "input": {
                "operation": "create_meeting", "now": 1_000_000, "random": "0700000000000000",
                "response": {"status": 201, "headers": {}, "body": std::str::from_utf8(body).unwrap()}
            }}))
            .unwrap()
            .as_bytes(),
        );
        assert_eq!(tailed, inline);
        assert!(
            tailed.contains(r#""join_url":"https://zoom.us/j/5""#),
            "{tailed}"
        );
    }

    #[test]
    fn a_tail_that_is_not_utf8_reads_as_a_body_zoom_could_not_have_meant() {
        // Valid JSON but for one byte: not read as a meeting with a mangled join URL.
        let body = b"{\"id\": 5, \"join_url\": \"https://zoom.us/j/5\xff\"}";
        let r = interpret_with_tail(r#"["response","body"]"#, body);
        assert!(r.contains("response_invalid"), "{r}");
        assert!(!r.contains("zoom.us"), "{r}");
    }

    #[test]
    fn a_tail_and_its_path_come_together_and_name_a_text() {
        let field_error = |r: String| {
            assert!(r.contains(r#""code":"input_invalid""#), "{r}");
            assert!(r.contains(r#""field":"tail""#), "{r}");
        };
        // A path naming a key the input lacks, a number, or into a text; not a list.
        field_error(interpret_with_tail(r#"["response","nobody"]"#, b"{}"));
        field_error(interpret_with_tail(r#"["response","status"]"#, b"{}"));
        field_error(interpret_with_tail(r#"["response","body","x"]"#, b"{}"));
        field_error(interpret_with_tail(r#""response.body""#, b"{}"));
        field_error(interpret_with_tail(r#"["response",1]"#, b"{}"));
        // A tail without a path, and a path without a tail.
        field_error(dispatch(b"{\"op\":\"meta.info\"}\0text"));
        field_error(dispatch(
            br#"{"op":"meta.info","tail":["x"],"input":{"x":""}}"#,
        ));
        // A repeated key: the tail takes the place of the value the readers take, the last.
        let mut raw = br#"{"op":"api.interpret","tail":["response","body"],"input":{"operation":"create_meeting","now":1000000,"random":"0700000000000000","response":{"status":201,"headers":{},"body":"x","body":""}}}"#.to_vec();
        raw.extend_from_slice(b"\0{\"id\": 5, \"join_url\": \"https://zoom.us/j/5\"}");
        let r = dispatch(&raw);
        assert!(r.contains(r#""zoom_id":"5""#), "{r}");
        // Only a NUL begins a tail: anything else after the JSON is the error it always was.
        let r = dispatch(b"{\"op\":\"meta.info\"} x");
        assert!(r.contains("json_invalid"), "{r}");
        assert!(r.contains("column 20"), "{r}");
        // A NUL inside the JSON is not a tail either.
        assert!(dispatch(b"{\"op\":\0\"meta.info\"}").contains("json_invalid"));
    }

    #[test]
    fn input_errors_do_not_quote_values() {
        let r = dispatch(br#"{"op":"oauth.refresh","input":{"client_id":"abc","client_secret":12345678901,"refresh_token":"r"}}"#);
        assert!(r.contains("input_invalid"), "{r}");
        assert!(!r.contains("12345678901"), "{r}");
    }
}
