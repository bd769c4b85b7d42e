//! Requests and responses as plain data. The core builds [`HttpRequest`]s; the host sends
//! them and hands back an [`HttpResponse`] (or a network failure) to interpret.

use crate::json::FromJson;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Headers,
    /// The body as it goes on the wire (JSON or form-encoded), or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A request body, kept as the JSON string literal the answer carries it as (quotes and
/// escapes included). A JSON body is written that way in one pass
/// ([`crate::json::write::to_json_literal`]), instead of written and then escaped into the
/// answer: in the interpreter the second pass cost about a tenth of a create call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    literal: String,
}

impl Body {
    fn json<T: Serialize>(v: &T) -> Self {
        Self {
            literal: crate::json::write::to_json_literal(v).unwrap_or_else(|_| "\"\"".into()),
        }
    }

    fn text(text: &str) -> Self {
        let mut literal = String::with_capacity(text.len() + 2);
        crate::json::write::push_str_literal(&mut literal, text);
        Self { literal }
    }

    /// The body as it goes on the wire.
    pub fn as_text(&self) -> String {
        match crate::json::Json::parse(&self.literal) {
            Ok(crate::json::Json::Str(s)) => s.into_owned(),
            _ => {
                debug_assert!(false, "a body is always a string literal");
                String::new()
            }
        }
    }
}

impl Serialize for Body {
    /// The core's writer copies the literal as it is (see `json::write::RAW`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(crate::json::write::RAW, &self.literal)
    }
}

/// A request's headers: the core's own lowercase names, kept sorted so that output is
/// deterministic; written as a JSON object. (A list of a few static names: a map of owned
/// strings cost an allocation and a lowercase copy per header in the interpreter.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(&'static str, String)>);

impl Headers {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &'static str, value: String) {
        debug_assert!(
            !name.bytes().any(|b| b.is_ascii_uppercase()),
            "header names are lowercase"
        );
        match self.0.binary_search_by(|(k, _)| (*k).cmp(name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl HttpRequest {
    pub fn new(method: &'static str, url: String) -> Self {
        Self {
            method,
            url,
            headers: Headers::default(),
            body: None,
        }
    }

    /// Sets a header; `name` is lowercase.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.set(name, value.into());
        self
    }

    pub fn json<T: Serialize>(self, body: &T) -> Self {
        let mut r = self.header("content-type", "application/json");
        r.body = Some(Body::json(body));
        r
    }

    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let mut r = self.header("content-type", "application/x-www-form-urlencoded");
        r.body = Some(Body::text(&crate::weburl::form(pairs)));
        r
    }
}

#[derive(Debug, Clone, Default, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in any case; looked up case-insensitively.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
