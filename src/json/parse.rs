//! JSON text to [`Json`]: the grammar, limits and number rules of serde_json (depth 128,
//! paired surrogates only, `-0` and out-of-range integers as floats), written for the
//! interpreter the core runs in. serde_json's parser drove a visitor per value and cost
//! about a fifth of a create call; this one walks the bytes once, skips eight string bytes
//! at a time and borrows every string without escapes. Fractions and exponents are still
//! converted by serde_json, so every float is the very one serde_json reads.
// The scanner reads eight bytes at a time (its SAFETY comment).
#![allow(unsafe_code)]

use super::read::Json;
use std::borrow::Cow;
use std::fmt;

/// Where and why the text is not JSON. Never quotes the text: it may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The text ended in the middle of a value.
    pub eof: bool,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let kind = if self.eof {
            "unexpected end"
        } else {
            "syntax error"
        };
        write!(f, "{kind} at line {}, column {}", self.line, self.column)
    }
}

/// serde_json's nesting limit: 127 open arrays and objects.
const MAX_DEPTH: u32 = 128;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit set in each byte of `w` that is `"`, `\` or a control character; exact for
/// the lowest such byte (borrows only spill upwards), which is all the callers use.
#[inline(always)]
pub(crate) fn special_bytes(w: u64) -> u64 {
    let quote = w ^ (ONES * b'"' as u64);
    let backslash = w ^ (ONES * b'\\' as u64);
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    (zero(quote) | zero(backslash) | w.wrapping_sub(ONES * 0x20) & !w) & HIGHS
}

/// The index of the first `"`, `\` or control byte at or after `i`, or `b.len()`.
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let m = special_bytes(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

/// The request as text, if it is UTF-8. The ASCII run at its start (all of it, for what
/// PHP's `json_encode` sends) is checked sixteen bytes per turn: in the interpreter the
/// standard check, a few bytes per turn, was several per cent of a call.
pub fn utf8(raw: &[u8]) -> Option<&str> {
    let mut i = 0;
    for pair in raw.chunks_exact(16) {
        let (a, b) = pair.split_at(8);
        let w = u64::from_le_bytes(a.try_into().unwrap_or([0x80; 8]))
            | u64::from_le_bytes(b.try_into().unwrap_or([0x80; 8]));
        if w & HIGHS != 0 {
            break;
        }
        i += 16;
    }
    std::str::from_utf8(&raw[i..]).ok()?;
    // SAFETY: `raw[..i]` is ASCII (checked above) and `raw[i..]` is UTF-8 (checked by
    // `from_utf8`); an ASCII prefix ends on a character boundary, so the whole is UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(raw) })
}

/// Whether two keys are the same, eight bytes per turn: comparing keys is most of what
/// reading an object costs, and `==` on strings goes through a byte-by-byte `memcmp` in the
/// interpreter.
#[inline]
pub fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let n = a.len();
    if n < 8 {
        let half =
            |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
        return if n >= 4 {
            half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
        } else {
            // Up to three bytes: the first, middle and last cover them all.
            n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
        };
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last eight bytes (overlapping the previous word when the length is not a multiple
    // of eight).
    word(a, n - 8) == word(b, n - 8)
}

/// An array or object still open, with what it holds so far.
enum Open<'a> {
    Arr(Vec<Json<'a>>),
    /// The fields so far, and the key whose value is being read.
    Obj(Vec<(Cow<'a, str>, Json<'a>)>, Cow<'a, str>),
}

/// Parses a whole JSON text: one value, whitespace around it.
///
/// One loop with an explicit stack of open containers and the position in a local: in the
/// interpreter every call and every memory round trip costs, so the common cases (plain
/// strings, small integers, punctuation) are handled right here and only escapes, floats
/// and errors leave the loop.
pub fn parse(text: &str) -> Result<Json<'_>, SyntaxError> {
    let (v, end) = parse_prefix(text)?;
    if end < text.len() {
        return Err(error_at(text.as_bytes(), end));
    }
    Ok(v)
}

/// The error [`parse`] gives for a text whose value ends before `at` (what [`parse_prefix`]
/// returned) with something other than whitespace there.
pub fn trailing_error(text: &str, at: usize) -> SyntaxError {
    error_at(text.as_bytes(), at)
}

/// Parses the JSON value at the start of `text` and the whitespace after it; returns the
/// value and where whatever follows begins (`text.len()` when nothing does).
pub fn parse_prefix(text: &str) -> Result<(Json<'_>, usize), SyntaxError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut open: Vec<Open> = Vec::with_capacity(8);
    'value: loop {
        i = skip_ws(b, i);
        let Some(&c) = b.get(i) else {
            return Err(error_at(b, i));
        };
        let mut v = match c {
            b'"' => {
                let (s, next) = string(text, i + 1)?;
                i = next;
                Json::Str(s)
            }
            b'0'..=b'9' | b'-' => {
                let (n, next) = number(text, i)?;
                i = next;
                n
            }
            b'{' | b'[' => {
                if open.len() + 1 >= MAX_DEPTH as usize {
                    return Err(error_at(b, i));
                }
                i = skip_ws(b, i + 1);
                let close = if c == b'{' { b'}' } else { b']' };
                if b.get(i).copied() == Some(close) {
                    i += 1;
                    if c == b'{' {
                        Json::Obj(Vec::new())
                    } else {
                        Json::Arr(Vec::new())
                    }
                } else if c == b'[' {
                    open.push(Open::Arr(Vec::with_capacity(4)));
                    continue 'value;
                } else {
                    let (key, next) = key(text, i)?;
                    i = next;
                    // Room for a typical input object: growing means copying, since
                    // whatever the fields hold was allocated after.
                    open.push(Open::Obj(Vec::with_capacity(8), key));
                    continue 'value;
                }
            }
            b't' => {
                i = word(b, i, b"true")?;
                Json::Bool(true)
            }
            b'f' => {
                i = word(b, i, b"false")?;
                Json::Bool(false)
            }
            b'n' => {
                i = word(b, i, b"null")?;
                Json::Null
            }
            _ => return Err(error_at(b, i)),
        };
        // Hand the value to the container it is in; closing one hands that on in turn.
        loop {
            let Some(top) = open.last_mut() else {
                return Ok((v, skip_ws(b, i)));
            };
            i = skip_ws(b, i);
            let sep = b.get(i).copied();
            match top {
                Open::Arr(items) => {
                    items.push(v);
                    match sep {
                        Some(b',') => {
                            i += 1;
                            continue 'value;
                        }
                        Some(b']') => i += 1,
                        _ => return Err(error_at(b, i)),
                    }
                }
                Open::Obj(fields, key) => {
                    fields.push((std::mem::take(key), v));
                    match sep {
                        Some(b',') => {
                            let (k, next) = self::key(text, skip_ws(b, i + 1))?;
                            *key = k;
                            i = next;
                            continue 'value;
                        }
                        Some(b'}') => i += 1,
                        _ => return Err(error_at(b, i)),
                    }
                }
            }
            v = match open.pop() {
                Some(Open::Arr(items)) => Json::Arr(items),
                Some(Open::Obj(fields, _)) => Json::Obj(fields),
                None => unreachable!("a container was open"),
            };
        }
    }
}

/// The error for the byte at `at`, or for the end of the text when `at` is past it.
#[cold]
#[inline(never)]
fn error_at(b: &[u8], at: usize) -> SyntaxError {
    let eof = at >= b.len();
    // Columns as serde_json counts them: the offending byte's, or the last byte's at the end.
    let upto = if eof { b.len() } else { at + 1 };
    let seen = &b[..upto];
    let line = 1 + seen.iter().filter(|&&c| c == b'\n').count();
    let column = upto - seen.iter().rposition(|&c| c == b'\n').map_or(0, |n| n + 1);
    SyntaxError { eof, line, column }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

fn word(b: &[u8], i: usize, w: &[u8]) -> Result<usize, SyntaxError> {
    for (k, &c) in w.iter().enumerate() {
        if b.get(i + k) != Some(&c) {
            return Err(error_at(b, i + k));
        }
    }
    Ok(i + w.len())
}

/// `"key"` and its colon, from `i` at the opening quote; returns the index after the colon.
/// Inlined into the parse loop's two places: the call per key (a step reads about ninety)
/// cost 1 to 3 % of a step in the interpreter.
#[inline(always)]
fn key(text: &str, i: usize) -> Result<(Cow<'_, str>, usize), SyntaxError> {
    let b = text.as_bytes();
    if !matches!(b.get(i), Some(b'"')) {
        return Err(error_at(b, i));
    }
    let (k, i) = string(text, i + 1)?;
    let i = skip_ws(b, i);
    if !matches!(b.get(i), Some(b':')) {
        return Err(error_at(b, i));
    }
    Ok((k, i + 1))
}

/// The rest of a string from `start`, just after its opening quote; returns the index
/// after the closing quote.
#[inline(always)]
fn string(text: &str, start: usize) -> Result<(Cow<'_, str>, usize), SyntaxError> {
    let b = text.as_bytes();
    let i = skip_plain(b, start);
    if matches!(b.get(i), Some(b'"')) {
        // SAFETY: both ends are ASCII quotes inside the text, so the slice is in bounds
        // and on character boundaries.
        let s = unsafe { text.get_unchecked(start..i) };
        return Ok((Cow::Borrowed(s), i + 1));
    }
    escaped_string(text, start, i)
}

/// A string with escapes, from `start`; `i` is the first byte that is not plain.
#[inline(never)]
fn escaped_string(
    text: &str,
    start: usize,
    mut i: usize,
) -> Result<(Cow<'_, str>, usize), SyntaxError> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(i - start + 16);
    let mut from = start;
    loop {
        match b.get(i) {
            Some(b'"') => {
                out.push_str(&text[from..i]);
                return Ok((Cow::Owned(out), i + 1));
            }
            Some(b'\\') => {
                out.push_str(&text[from..i]);
                i = escape(b, i + 1, &mut out)?;
                from = i;
            }
            // A control character (or the end of the text) inside a string.
            _ => return Err(error_at(b, i)),
        }
        i = skip_plain(b, i);
    }
}

/// One escape after its backslash; returns the index after it.
fn escape(b: &[u8], i: usize, out: &mut String) -> Result<usize, SyntaxError> {
    let c = match b.get(i) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unicode(b, i + 1, out),
        _ => return Err(error_at(b, i)),
    };
    out.push(c);
    Ok(i + 1)
}

fn hex4(b: &[u8], i: usize) -> Result<u32, SyntaxError> {
    let mut n = 0;
    for k in i..i + 4 {
        let d = match b.get(k) {
            Some(&c @ b'0'..=b'9') => c - b'0',
            Some(&c @ b'a'..=b'f') => c - b'a' + 10,
            Some(&c @ b'A'..=b'F') => c - b'A' + 10,
            _ => return Err(error_at(b, k)),
        };
        n = n * 16 + u32::from(d);
    }
    Ok(n)
}

/// `\uXXXX` (after the `u`): surrogates must come in pairs, as serde_json requires.
fn unicode(b: &[u8], i: usize, out: &mut String) -> Result<usize, SyntaxError> {
    let n = hex4(b, i)?;
    let mut next = i + 4;
    let code = match n {
        0xDC00..=0xDFFF => return Err(error_at(b, next - 1)),
        0xD800..=0xDBFF => {
            if b.get(next) != Some(&b'\\') || b.get(next + 1) != Some(&b'u') {
                let at = if b.get(next) == Some(&b'\\') {
                    next + 1
                } else {
                    next
                };
                return Err(error_at(b, at));
            }
            let low = hex4(b, next + 2)?;
            next += 6;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(error_at(b, next - 1));
            }
            0x1_0000 + ((n - 0xD800) << 10 | (low - 0xDC00))
        }
        n => n,
    };
    // Surrogates were handled above, so this is always a scalar value.
    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
    Ok(next)
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

/// A number from `start`; returns the index after it.
#[inline(always)]
fn number(text: &str, start: usize) -> Result<(Json<'_>, usize), SyntaxError> {
    let b = text.as_bytes();
    // The common case: a short non-negative integer, digits then punctuation.
    let mut n: u64 = 0;
    let mut i = start;
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        i += 1;
    }
    let len = i - start;
    if len > 0
        && len < 20
        && (b[start] != b'0' || len == 1)
        && !matches!(b.get(i), Some(b'.' | b'e' | b'E'))
    {
        return Ok((Json::UInt(n), i));
    }
    other_number(text, start)
}

/// Any other number: signs, long integers, fractions and exponents.
#[inline(never)]
fn other_number(text: &str, start: usize) -> Result<(Json<'_>, usize), SyntaxError> {
    let b = text.as_bytes();
    let negative = b.get(start) == Some(&b'-');
    let int_start = start + usize::from(negative);
    let mut i = int_start;
    match b.get(i) {
        Some(b'0') => {
            i += 1;
            if let Some(b'0'..=b'9') = b.get(i) {
                return Err(error_at(b, i));
            }
        }
        Some(b'1'..=b'9') => i = digits(b, i),
        _ => return Err(error_at(b, i)),
    }
    let int_end = i;
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return Err(error_at(b, end));
        }
        i = end;
        float = true;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return Err(error_at(b, end));
        }
        i = end;
        float = true;
    }
    if !float {
        // The value fits: an integer, as serde_json keeps it.
        let mut n: u64 = 0;
        let mut fits = true;
        for &d in &b[int_start..int_end] {
            match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(m) => n = m,
                None => {
                    fits = false;
                    break;
                }
            }
        }
        if fits {
            if !negative {
                return Ok((Json::UInt(n), i));
            }
            let neg = (n as i64).wrapping_neg();
            // `-0` and integers below i64::MIN are floats in serde_json.
            if neg < 0 {
                return Ok((Json::Int(neg), i));
            }
            if n == 0 {
                return Ok((Json::Float(-0.0), i));
            }
        }
    }
    match serde_float(&text[start..i]) {
        Some(f) => Ok((Json::Float(f), i)),
        // Out of f64's range.
        None => Err(error_at(b, i - 1)),
    }
}

/// A number that is not a plain integer, converted exactly as serde_json converts it (its
/// fast path is not always the correctly rounded float, so `str::parse` could differ).
/// Read through `deserialize_any` with every visit written out: serde's defaults would
/// format floats into type errors and link core's float printing into the .wasm.
fn serde_float(number: &str) -> Option<f64> {
    use serde::de::{Deserializer, Error, MapAccess, SeqAccess, Visitor};
    struct Float;
    type R<E> = Result<f64, E>;
    impl<'de> Visitor<'de> for Float {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_f64<E: Error>(self, v: f64) -> R<E> {
            Ok(v)
        }
        fn visit_u64<E: Error>(self, v: u64) -> R<E> {
            Ok(v as f64)
        }
        fn visit_i64<E: Error>(self, v: i64) -> R<E> {
            Ok(v as f64)
        }
        fn visit_bool<E: Error>(self, _: bool) -> R<E> {
            Err(E::custom("not a number"))
        }
        fn visit_unit<E: Error>(self) -> R<E> {
            Err(E::custom("not a number"))
        }
        fn visit_str<E: Error>(self, _: &str) -> R<E> {
            Err(E::custom("not a number"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> R<A::Error> {
            Err(A::Error::custom("not a number"))
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> R<A::Error> {
            Err(A::Error::custom("not a number"))
        }
    }
    serde_json::Deserializer::from_str(number)
        .deserialize_any(Float)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> SyntaxError {
        parse(text).unwrap_err()
    }

    #[test]
    fn errors_say_where_and_whether_the_text_ended() {
        let e = err(r#"{"op": "meta.info", "input": {"#);
        assert_eq!((e.eof, e.line, e.column), (true, 1, 30));
        let e = err("{\n  \"a\": tru }");
        assert_eq!((e.eof, e.line, e.column), (false, 2, 11));
        assert_eq!(err("[1] x").column, 5);
        assert!(err("\"abc").eof);
        assert!(!err("\"a\u{1}b\"").eof);
    }

    #[test]
    fn limits_and_numbers_follow_serde_json() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(127)).is_ok());
        assert!(parse(&deep(128)).is_err());
        assert_eq!(parse("-0").unwrap(), Json::Float(-0.0));
        assert_eq!(parse("-9223372036854775808").unwrap(), Json::Int(i64::MIN));
        assert_eq!(
            parse("-9223372036854775809").unwrap(),
            Json::Float(-9223372036854775809.0)
        );
        assert_eq!(
            parse("18446744073709551616").unwrap(),
            Json::Float(18446744073709551616.0)
        );
        for bad in [
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "1e999",
            "[1,]",
            "{\"a\":1,}",
            "nul",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn surrogates_must_pair() {
        assert_eq!(
            parse(r#""\ud83d\ude00""#).unwrap(),
            Json::Str(Cow::Owned("\u{1f600}".into()))
        );
        for bad in [
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83d\u0041""#,
            r#""\ud83d\n""#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn special_bytes_finds_the_first_quote_backslash_or_control() {
        let text = br#"abcdefgh"ij\k"#;
        assert_eq!(skip_plain(text, 0), 8);
        assert_eq!(skip_plain(b"abcdefghijk\x1fmnopq", 0), 11);
        assert_eq!(skip_plain(b"abc\x7f\xe9z", 0), 6);
        assert_eq!(skip_plain(b"\\", 0), 0);
    }
}
