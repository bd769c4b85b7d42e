//! The JSON face of the core. One entry point, [`dispatch`]: `{"op": .., "input": ..}` in,
//! `{"ok": ..}` or `{"error": {code, message, field?}}` out. The .wasm exports it (see
//! `wasm`), and the golden vectors in `tests/vectors/` replay through it, so the PHP side
//! can replay them unchanged. This module translates; it decides nothing.

use crate::error::{CoreError, Result};
use crate::{api, mapping, meeting, oauth, token, validation, webhook};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Bumped whenever an operation's input or output changes shape.
pub const ABI_VERSION: u32 = 1;
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
    "user.get",
    "oauth.authorize",
    "oauth.verify_state",
    "oauth.exchange_code",
    "oauth.refresh",
    "oauth.s2s_token",
    "oauth.revoke",
    "token.decide",
    "token.after_refresh_failure",
    "api.interpret",
    "webhook.handle",
    "mapping.reserve",
    "mapping.activate",
    "mapping.plan",
    "mapping.recover",
    "mapping.start_link",
    "mapping.fail",
    "mapping.apply_event",
    "settings.validate_admin",
    "settings.validate_doctor",
    "policy.validate",
    "debug.panic",
];

/// serde's messages can quote the offending value; a value may be a secret, so keep the
/// kind and drop the literal.
fn input_error(e: serde_json::Error) -> CoreError {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let redacted = ["invalid type: ", "invalid value: ", "invalid length "]
        .iter()
        .find_map(|prefix| {
            let rest = msg.strip_prefix(prefix)?;
            let kind = rest.split([' ', ',']).next().unwrap_or("value");
            let expected = rest.split(", expected ").nth(1).unwrap_or("another value");
            Some(format!("{prefix}{kind}, expected {expected}"))
        });
    CoreError::new("input_invalid", redacted.unwrap_or(msg))
}

fn parse<T: DeserializeOwned>(input: &RawValue) -> Result<T> {
    let v: Value = serde_json::from_str(input.get()).map_err(input_error)?;
    T::deserialize(&v).map_err(input_error)
}

fn out<T: Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|_| CoreError::new("internal", "result could not be encoded"))
}

/// Runs one operation on its input, given as JSON text.
pub fn call(op: &str, input: &RawValue) -> Result<Value> {
    match op {
        "meta.info" => Ok(json!({
            "abi_version": ABI_VERSION,
            "core_version": env!("CARGO_PKG_VERSION"),
            "max_input": MAX_INPUT,
            "ops": OPS,
        })),
        "meeting.create" => out(meeting::create(&parse(input)?)?),
        "meeting.update" => out(meeting::update(&parse(input)?)?),
        "meeting.delete" => out(meeting::delete(&parse(input)?)?),
        "meeting.get" => out(meeting::get(&parse(input)?)?),
        "meeting.list" => out(meeting::list(&parse(input)?)?),
        "user.get" => out(meeting::get_user(&parse(input)?)?),
        "oauth.authorize" => out(oauth::authorize(&parse(input)?)?),
        "oauth.verify_state" => out(oauth::verify_state(&parse(input)?)?),
        "oauth.exchange_code" => out(oauth::exchange_code(&parse(input)?)?),
        "oauth.refresh" => out(oauth::refresh(&parse(input)?)?),
        "oauth.s2s_token" => out(oauth::s2s_token(&parse(input)?)?),
        "oauth.revoke" => out(oauth::revoke(&parse(input)?)?),
        "token.decide" => out(token::decide(&parse(input)?)),
        "token.after_refresh_failure" => out(token::after_refresh_failure(&parse(input)?)),
        "api.interpret" => out(api::interpret(&parse(input)?)?),
        "webhook.handle" => out(webhook::handle(&parse(input)?)?),
        "mapping.reserve" => out(mapping::reserve(&parse(input)?)?),
        "mapping.activate" => out(mapping::activate(&parse(input)?)?),
        "mapping.plan" => out(mapping::plan(&parse(input)?)),
        "mapping.recover" => out(json!({ "meeting": mapping::recover(&parse(input)?)? })),
        "mapping.start_link" => out(mapping::start_link(&parse(input)?)),
        "mapping.fail" => out(mapping::fail(&parse(input)?)),
        "mapping.apply_event" => out(mapping::apply_event(&parse(input)?)?),
        "settings.validate_admin" => out(validation::validate_admin(&parse(input)?)),
        "settings.validate_doctor" => out(validation::validate_doctor(&parse(input)?)),
        "policy.validate" => out(validation::validate_policy(&parse(input)?)),
        // Lets a host prove it survives a guest trap and reads the panic message.
        "debug.panic" => panic!("debug.panic was called: this trap is deliberate"),
        other => Err(CoreError::field(
            "unknown_op",
            "op",
            format!(
                "unknown operation {:?}",
                other.chars().take(64).collect::<String>()
            ),
        )),
    }
}

fn envelope(r: Result<Value>) -> String {
    match r {
        Ok(v) => json!({ "ok": v }).to_string(),
        Err(e) => json!({ "error": e }).to_string(),
    }
}

/// The whole request as bytes in, the whole answer as JSON text out. Never panics on bad
/// input: malformed JSON, a missing op or an oversized request is an error answer.
pub fn dispatch(raw: &[u8]) -> String {
    if raw.len() > MAX_INPUT {
        return envelope(Err(CoreError::new(
            "input_too_large",
            format!("request is {} bytes; the limit is {MAX_INPUT}", raw.len()),
        )));
    }
    // Inputs are parsed once, straight into each operation's own type: going through
    // `Value` first doubled the serde code in the .wasm.
    #[derive(Deserialize)]
    struct Request<'a> {
        op: Option<&'a str>,
        #[serde(borrow)]
        input: Option<&'a RawValue>,
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return envelope(Err(CoreError::new("json_invalid", "request is not UTF-8")));
    };
    let req: Request = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return envelope(Err(CoreError::new(
                "json_invalid",
                format!("request is not valid JSON ({})", e.classify_name()),
            )))
        }
    };
    let Some(op) = req.op else {
        return envelope(Err(CoreError::field(
            "op_missing",
            "op",
            "request has no \"op\"",
        )));
    };
    let empty: &RawValue = serde_json::from_str("{}").unwrap_or_else(|_| unreachable!());
    envelope(call(op, req.input.unwrap_or(empty)))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "data error",
            serde_json::error::Category::Eof => "unexpected end",
        }
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

    #[test]
    fn input_errors_do_not_quote_values() {
        let r = dispatch(br#"{"op":"oauth.refresh","input":{"client_id":"abc","client_secret":12345678901,"refresh_token":"r"}}"#);
        assert!(r.contains("input_invalid"), "{r}");
        assert!(!r.contains("12345678901"), "{r}");
    }
}
