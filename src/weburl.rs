//! The little URL handling the core needs: check an origin or a redirect URL an admin typed,
//! and build Zoom URLs with percent-encoded path segments and form-encoded queries.
//! (The full `url` crate with IDNA was a tenth of the .wasm; non-ASCII host names are
//! refused here with a pointer to their punycode form.)

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// RFC 3986 path-segment encoding: everything but unreserved characters and `@`.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'+')
    .add(b'&')
    .add(b'=')
    .add(b';')
    .add(b':')
    .add(b',');

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// Everything after the authority, before any `?` or `#` (may be empty).
    pub path: String,
    pub has_query: bool,
    pub has_fragment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    Malformed,
    NonAsciiHost,
}

impl WebUrl {
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        // `find(':')` then a prefix check: a substring search costs a searcher per call.
        let colon = s.find(':').ok_or(UrlError::Malformed)?;
        let (scheme, rest) = (&s[..colon], s[colon + 1..].strip_prefix("//"));
        let rest = rest.ok_or(UrlError::Malformed)?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https") {
            return Err(UrlError::Malformed);
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') || authority.is_empty() {
            return Err(UrlError::Malformed);
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
                (h, Some(p.parse::<u16>().map_err(|_| UrlError::Malformed)?))
            }
            _ => (authority, None),
        };
        if !host.is_ascii() {
            return Err(UrlError::NonAsciiHost);
        }
        let host = host.to_ascii_lowercase();
        let ipv6 = host.starts_with('[') && host.ends_with(']');
        let named = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !(ipv6 || named) {
            return Err(UrlError::Malformed);
        }
        if tail
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(UrlError::Malformed);
        }
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        Ok(Self {
            scheme,
            host,
            port,
            path: tail[..path_end].to_string(),
            has_query: tail.contains('?'),
            has_fragment: tail.contains('#'),
        })
    }

    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
    }

    /// https anywhere, plain http only on this machine (tests and the demo).
    pub fn is_secure_or_local(&self) -> bool {
        self.scheme == "https" || self.is_loopback()
    }

    /// A bare origin: nothing after the host but an optional `/`.
    pub fn is_origin(&self) -> bool {
        (self.path.is_empty() || self.path == "/") && !self.has_query && !self.has_fragment
    }

    pub fn origin(&self) -> String {
        let mut o = String::with_capacity(self.scheme.len() + self.host.len() + 9);
        o.push_str(&self.scheme);
        o.push_str("://");
        o.push_str(&self.host);
        if let Some(p) = self.port {
            o.push(':');
            o.push_str(itoa::Buffer::new().format(p));
        }
        o
    }
}

/// `origin` + `/`-joined, percent-encoded segments.
pub fn join(origin: &str, segments: &[&str]) -> String {
    let mut out = origin.trim_end_matches('/').to_string();
    for s in segments {
        out.push('/');
        out.extend(utf8_percent_encode(s, SEGMENT));
    }
    out
}

/// `application/x-www-form-urlencoded` pairs, for bodies and query strings alike.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

pub fn with_query(url: String, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        url
    } else {
        format!("{url}?{}", form(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_admins_type() {
        let u = WebUrl::parse("https://Clinic.example:8443/wp-json/x?y=1").unwrap();
        assert_eq!(u.host, "clinic.example");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, "/wp-json/x");
        assert!(u.has_query && !u.has_fragment);
        assert!(WebUrl::parse("https://api.zoom.us").unwrap().is_origin());
        assert!(WebUrl::parse("http://127.0.0.1:9000/")
            .unwrap()
            .is_loopback());
        assert_eq!(
            WebUrl::parse("https://ärzte.example/cb"),
            Err(UrlError::NonAsciiHost)
        );
        for bad in [
            "ftp://x.org",
            "https://",
            "https://a b.org",
            "https://u:p@x.org/",
            "x.org/cb",
            "https://x.org:99999",
        ] {
            assert_eq!(WebUrl::parse(bad), Err(UrlError::Malformed), "{bad}");
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(
            join("https://a.b/", &["v2", "users", "dr.a@x.org", "meetings"]),
            "https://a.b/v2/users/dr.a@x.org/meetings"
        );
        assert_eq!(
            join("https://a.b", &["users", "../x y"]),
            "https://a.b/users/..%2Fx%20y"
        );
        assert_eq!(form(&[("a", "b c"), ("t", "x&y")]), "a=b+c&t=x%26y");
    }
}
