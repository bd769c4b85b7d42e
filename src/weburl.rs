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
        // Byte scans rather than `str` searches: in the interpreter every search is a call
        // (and a char searcher per pattern), and this runs on every request built.
        let b = s.as_bytes();
        let colon = first(b, 0, |c| c == b':').ok_or(UrlError::Malformed)?;
        let scheme = &s[..colon];
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            "https"
        } else if scheme.eq_ignore_ascii_case("http") {
            "http"
        } else {
            return Err(UrlError::Malformed);
        };
        if !b[colon + 1..].starts_with(b"//") {
            return Err(UrlError::Malformed);
        }
        let start = colon + 3;
        let end = first(b, start, |c| matches!(c, b'/' | b'?' | b'#')).unwrap_or(b.len());
        let authority = &s[start..end];
        let tail = &b[end..];
        if authority.is_empty() || authority.as_bytes().contains(&b'@') {
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
        let h = host.as_bytes();
        let ipv6 = h.first() == Some(&b'[') && h.last() == Some(&b']');
        if !(ipv6 || is_host_name(h)) {
            return Err(UrlError::Malformed);
        }
        if first(tail, 0, |c| c.is_ascii_whitespace() || c.is_ascii_control()).is_some() {
            return Err(UrlError::Malformed);
        }
        let path_end = first(tail, 0, |c| c == b'?' || c == b'#').unwrap_or(tail.len());
        Ok(Self {
            scheme: scheme.to_string(),
            host,
            port,
            path: s[end..end + path_end].to_string(),
            has_query: tail.contains(&b'?'),
            has_fragment: tail.contains(&b'#'),
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

/// The index of the first byte at or after `from` that `hit` accepts.
#[inline(always)]
fn first(b: &[u8], from: usize, hit: impl Fn(u8) -> bool) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        if hit(b[i]) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Dot-separated labels of letters, digits and `-`, each 1 to 63 long, 253 in all.
fn is_host_name(h: &[u8]) -> bool {
    let mut label = 0;
    for &c in h {
        if c == b'.' {
            if label == 0 {
                return false;
            }
            label = 0;
        } else if c.is_ascii_alphanumeric() || c == b'-' {
            label += 1;
            if label > 63 {
                return false;
            }
        } else {
            return false;
        }
    }
    !h.is_empty() && h.len() <= 253 && label > 0
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
