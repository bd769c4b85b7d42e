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

/// `s` without a trailing `/` when it is plainly an https origin with a lowercase host name
/// (`https://api.zoom.us`): what `parse` then `origin` would give, in one pass. Anything
/// else (a port, upper case, a path, http) is `None`, for the full parse to judge.
pub fn plain_https_origin(s: &str) -> Option<&str> {
    let o = s.strip_suffix('/').unwrap_or(s);
    let host = o.strip_prefix("https://")?.as_bytes();
    labels(host, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
    })
    .then_some(o)
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
    labels(h, |c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Dot-separated labels of bytes `ok` accepts, each 1 to 63 long, 253 in all.
#[inline(always)]
fn labels(h: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    let mut label = 0;
    for &c in h {
        if c == b'.' {
            if label == 0 {
                return false;
            }
            label = 0;
        } else if ok(c) {
            label += 1;
            if label > 63 {
                return false;
            }
        } else {
            return false;
        }
    }
    h.len() <= 253 && label > 0
}

/// `origin` + `/`-joined, percent-encoded segments.
pub fn join(origin: &str, segments: &[&str]) -> String {
    let origin = origin.trim_end_matches('/');
    let mut out =
        String::with_capacity(origin.len() + segments.iter().map(|s| s.len() + 1).sum::<usize>());
    out.push_str(origin);
    push_segments(&mut out, segments);
    out
}

/// `/` and each segment, percent-encoded, appended to `out`.
pub fn push_segments(out: &mut String, segments: &[&str]) {
    for s in segments {
        out.push('/');
        // Nearly every segment is plain (names, ids, emails) and is copied whole; scanning
        // it byte by byte through the encoder cost more than the rest of the URL.
        if s.bytes().all(plain_in_segment) {
            out.push_str(s);
        } else {
            out.extend(utf8_percent_encode(s, SEGMENT));
        }
    }
}

/// RFC 3986's unreserved characters and `@`: what `SEGMENT` leaves as it is among ASCII
/// letters, digits and marks (a unit test checks the two agree on every byte).
fn plain_in_segment(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'@')
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
    fn the_plain_segment_test_agrees_with_the_encoder() {
        for c in 0u8..=255 {
            let one = [c];
            let text = String::from_utf8_lossy(&one);
            let untouched = utf8_percent_encode(&text, SEGMENT).to_string() == text;
            if plain_in_segment(c) {
                assert!(untouched, "byte {c} is plain but the encoder changes it");
            }
        }
        // Every ASCII byte the fast path sends to the encoder is one it changes, but for
        // these six, which it keeps (the encoder then copies them all the same).
        for c in 0u8..128 {
            let text = (c as char).to_string();
            let untouched = utf8_percent_encode(&text, SEGMENT).to_string() == text;
            assert_eq!(
                untouched,
                plain_in_segment(c) || b"!$'()*".contains(&c),
                "byte {c}"
            );
        }
    }

    #[test]
    fn a_plain_https_origin_is_what_the_full_parse_makes_of_it() {
        for s in [
            "https://api.zoom.us",
            "https://api.zoom.us/",
            "https://a-b.example",
            "https://API.zoom.us",
            "https://api.zoom.us:443",
            "https://api.zoom.us/v2",
            "https://.zoom.us",
            "https://api..us",
            "https://",
            "http://api.zoom.us",
            "https://api.zoom.us.",
        ] {
            let full = WebUrl::parse(s)
                .ok()
                .filter(|u| u.is_origin() && u.scheme == "https")
                .map(|u| u.origin());
            if let Some(fast) = plain_https_origin(s) {
                assert_eq!(Some(fast.to_string()), full, "{s}");
            }
        }
        assert_eq!(
            plain_https_origin("https://api.zoom.us/"),
            Some("https://api.zoom.us")
        );
        assert_eq!(plain_https_origin("https://API.zoom.us"), None);
        assert_eq!(plain_https_origin("https://api.zoom.us:443"), None);
    }

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
