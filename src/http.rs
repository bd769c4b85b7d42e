//! Requests and responses as plain data. The core builds [`HttpRequest`]s; the host sends
//! them and hands back an [`HttpResponse`] (or a network failure) to interpret.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// Header names are lowercase; ordered so that output is deterministic.
    pub headers: BTreeMap<String, String>,
    /// The body as it goes on the wire (JSON or form-encoded), or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl HttpRequest {
    pub fn new(method: &'static str, url: String) -> Self {
        Self {
            method,
            url,
            headers: BTreeMap::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.insert(name.to_ascii_lowercase(), value.into());
        self
    }

    pub fn json<T: Serialize>(self, body: &T) -> Self {
        let mut r = self.header("content-type", "application/json");
        r.body = Some(crate::output::to_json(body).unwrap_or_default());
        r
    }

    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let mut r = self.header("content-type", "application/x-www-form-urlencoded");
        r.body = Some(crate::weburl::form(pairs));
        r
    }
}

#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in any case; looked up case-insensitively.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}
crate::from_json!(HttpResponse {
    status,
    headers = Default::default(),
    body = Default::default(),
});

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

    pub fn json(&self) -> Option<serde_json::Value> {
        // Through the input tree: one JSON parser in the .wasm, not two.
        crate::input::Json::parse(&self.body).ok().map(Into::into)
    }
}
