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
    pub body: Option<String>,
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
        r.body = Some(crate::json::write::to_json(body).unwrap_or_default());
        r
    }

    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let mut r = self.header("content-type", "application/x-www-form-urlencoded");
        r.body = Some(crate::weburl::form(pairs));
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
