//! How the core writes its answers and request bodies: compact JSON, byte for byte what
//! serde_json writes, from any `Serialize` type.
//!
//! Written out because the .wasm runs in an interpreter: serde_json's writer goes through
//! `io::Write`, a formatter and an escape table per fragment, which at the core's size
//! optimisation meant hundreds of interpreted instructions per field. This writer appends to
//! one `String` and copies strings that need no escaping (nearly all) in one go.
// The string writer copies eight bytes at a time (write_str_literal's SAFETY comment).
#![allow(unsafe_code)]

use serde::ser::{self, Serialize};
use std::fmt;

/// Any `Serialize` value as compact JSON text.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    to_json_within("", v, "")
}

/// `prefix`, then `v` as compact JSON text, then `suffix`, in one buffer.
pub fn to_json_within<T: Serialize + ?Sized>(
    prefix: &str,
    v: &T,
    suffix: &str,
) -> Result<String, Error> {
    let mut w = Writer {
        out: Vec::with_capacity(512),
        nested: false,
        raw_next: false,
    };
    w.put(prefix);
    v.serialize(&mut w)?;
    w.put(suffix);
    Ok(w.into_string())
}

/// `v`'s compact JSON text as a JSON string literal (quotes and escapes included), written in
/// one pass: what `push_str_literal` would make of [`to_json`]'s text, without writing the
/// text first. A request body is kept this way ([`crate::http::Body`]), since the answer
/// carries it as a string.
pub fn to_json_literal<T: Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    let mut w = Writer {
        out: Vec::with_capacity(512),
        nested: true,
        raw_next: false,
    };
    w.put("\"");
    v.serialize(&mut w)?;
    w.put("\"");
    Ok(w.into_string())
}

/// The name of the newtype struct through which a value hands this writer a string to copy as
/// it is (a JSON literal made before, see [`crate::http::Body`]). Other serializers see a
/// newtype around that string.
pub const RAW: &str = "$kc_telemed::json::raw";

/// Appends `bytes`: one capacity check, then one copy. `String::push_str` is not inlined at
/// the core's size optimisation, and in the interpreter every call costs.
#[inline(always)]
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    if out.capacity() - out.len() < bytes.len() {
        grow(out, bytes.len());
    }
    // SAFETY: capacity for `bytes` was just ensured; the regions cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().add(out.len()), bytes.len());
        out.set_len(out.len() + bytes.len());
    }
}

#[cold]
#[inline(never)]
fn grow(out: &mut Vec<u8>, more: usize) {
    out.reserve(more.max(out.capacity()));
}

/// How each byte is written inside a JSON string: 0 as it is, `u` as `\u00XX`, anything
/// else as a backslash and that letter (serde_json's choice of escapes).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a JSON string literal, escaped exactly as serde_json does: `"`, `\` and
/// control characters only (`/` and non-ASCII are left as they are).
pub fn push_str_literal(out: &mut String, s: &str) {
    // SAFETY: only whole runs of `s` (cut at ASCII bytes) and ASCII escapes are appended.
    write_str_literal(unsafe { out.as_mut_vec() }, s.as_bytes());
}

/// The escaper behind [`push_str_literal`]: eight bytes at a time while none needs escaping
/// (each chunk is stored whole, and the end only advances past its plain bytes), then one
/// escape, and on. Room for the text as it is comes first; an escape makes its own extra room
/// (reserving for the worst case up front would grow guest memory sixfold for a large text).
fn write_str_literal(out: &mut Vec<u8>, b: &[u8]) {
    write_literal::<false>(out, b)
}

/// [`write_str_literal`], or with `NESTED` the literal as it reads inside another JSON string:
/// quoted with `\"` and every escape escaped again (`"` as `\\\"`, a newline as `\\n`), so a
/// request body is written once, already as the answer carries it.
#[inline(always)]
fn write_literal<const NESTED: bool>(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Past the next write position there is always room for the rest of the text, the
    // closing quote and one chunk of slack.
    const SLACK: usize = 2 + 8;
    // The most an escape writes beyond the byte it replaces.
    let extra: usize = if NESTED { 6 } else { 5 };
    let n = b.len();
    if out.capacity() - out.len() < 2 + n + SLACK {
        grow(out, 2 + n + SLACK);
    }
    // SAFETY: the room kept past `p` (see SLACK) covers every write: a chunk store only
    // happens with eight or more bytes of text left, plain bytes advance `p` and `i`
    // together, and before an escape the room for its extra bytes is made (moving `p` with
    // the buffer if it grows).
    unsafe {
        let mut base = out.as_mut_ptr();
        let mut p = base.add(out.len());
        if NESTED {
            *p = b'\\';
            p = p.add(1);
        }
        *p = b'"';
        p = p.add(1);
        let mut i = 0;
        loop {
            while i + 8 <= n {
                let w = std::ptr::read_unaligned(b.as_ptr().add(i) as *const u64);
                std::ptr::write_unaligned(p as *mut u64, w);
                let m = super::parse::special_bytes(u64::from_le(w));
                if m != 0 {
                    let k = (m.trailing_zeros() / 8) as usize;
                    p = p.add(k);
                    i += k;
                    break;
                }
                p = p.add(8);
                i += 8;
            }
            // The tail, or the byte that stopped the chunk loop.
            let mut esc = 0;
            while i < n {
                esc = ESCAPE[b[i] as usize];
                if esc != 0 {
                    break;
                }
                *p = b[i];
                p = p.add(1);
                i += 1;
            }
            if i == n {
                break;
            }
            let used = p.offset_from(base) as usize;
            if out.capacity() - used < (n - i) + SLACK + extra {
                out.set_len(used);
                grow(out, (n - i) + SLACK + extra);
                base = out.as_mut_ptr();
                p = base.add(used);
            }
            let c = b[i];
            *p = b'\\';
            if NESTED {
                // The escape's own backslash, escaped.
                *p.add(1) = b'\\';
                p = p.add(1);
            }
            if esc == b'u' {
                *p.add(1) = b'u';
                *p.add(2) = b'0';
                *p.add(3) = b'0';
                *p.add(4) = HEX[(c >> 4) as usize];
                *p.add(5) = HEX[(c & 0xf) as usize];
                p = p.add(6);
            } else if NESTED && (esc == b'"' || esc == b'\\') {
                // `\"` and `\\` escape a quote or backslash, which escapes again.
                *p.add(1) = b'\\';
                *p.add(2) = esc;
                p = p.add(3);
            } else {
                *p.add(1) = esc;
                p = p.add(2);
            }
            i += 1;
        }
        if NESTED {
            *p = b'\\';
            p = p.add(1);
        }
        *p = b'"';
        p = p.add(1);
        out.set_len(p.offset_from(base) as usize);
    }
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

struct Writer {
    /// Always UTF-8: only whole strings and ASCII punctuation are appended.
    out: Vec<u8>,
    /// Writing inside a string literal (`to_json_literal`): quotes and escapes escaped again.
    nested: bool,
    /// The next string is a finished literal (the [`RAW`] newtype): copied as it is.
    raw_next: bool,
}

impl Writer {
    fn into_string(self) -> String {
        // SAFETY: see `out`.
        unsafe { String::from_utf8_unchecked(self.out) }
    }

    #[inline(always)]
    fn put(&mut self, s: &str) {
        put(&mut self.out, s.as_bytes());
    }

    #[inline(always)]
    fn byte(&mut self, c: u8) {
        put(&mut self.out, &[c]);
    }

    fn literal(&mut self, s: &str) {
        if self.nested {
            write_literal::<true>(&mut self.out, s.as_bytes());
        } else {
            write_str_literal(&mut self.out, s.as_bytes());
        }
    }

    /// Opens a list or object; an externally tagged variant wraps it in `{"Variant": ..}`.
    fn open(&mut self, variant: Option<&str>, bracket: u8) -> Result<Compound<'_>, Error> {
        if let Some(variant) = variant {
            self.byte(b'{');
            self.literal(variant);
            self.byte(b':');
        }
        self.byte(bracket);
        Ok(Compound {
            w: self,
            first: true,
            variant: variant.is_some(),
        })
    }

    fn int(&mut self, v: impl itoa::Integer) {
        self.put(itoa::Buffer::new().format(v));
    }

    /// As serde_json: the shortest form that reads back the same, and `null` for NaN and
    /// infinities.
    fn float<F: zmij::Float>(&mut self, v: F, finite: bool) {
        if finite {
            self.put(zmij::Buffer::new().format_finite(v));
        } else {
            self.put("null");
        }
    }
}

/// A list, map or struct being written; `first` says whether a comma is due.
pub struct Compound<'a> {
    w: &'a mut Writer,
    first: bool,
    /// Closers for an externally tagged variant: `}` after the inner value.
    variant: bool,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.byte(b',');
        }
        self.first = false;
    }

    /// A struct field. Its name is one of the core's own identifiers (or a `rename` in the
    /// core), which never needs escaping, so it is copied as it is: the comma, the quoted name
    /// and the colon go in after one capacity check (in the interpreter each check and each
    /// append is a dozen instructions, and a row has dozens of fields). Inlined into each
    /// struct's writer, which then makes no call per field: −4 % for a create, for 11 KB.
    #[inline(always)]
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
        let out = &mut self.w.out;
        // `,\"key\":` at most.
        let most = key.len() + 6;
        if out.capacity() - out.len() < most {
            grow(out, most);
        }
        let nested = self.w.nested;
        // SAFETY: room for `most` bytes was just ensured, and at most that many are written.
        unsafe {
            let base = out.as_mut_ptr();
            let mut p = base.add(out.len());
            if !self.first {
                *p = b',';
                p = p.add(1);
            }
            if nested {
                *p = b'\\';
                p = p.add(1);
            }
            *p = b'"';
            p = p.add(1);
            std::ptr::copy_nonoverlapping(key.as_ptr(), p, key.len());
            p = p.add(key.len());
            if nested {
                *p = b'\\';
                p = p.add(1);
            }
            *p = b'"';
            *p.add(1) = b':';
            p = p.add(2);
            out.set_len(p.offset_from(base) as usize);
        }
        self.first = false;
        v.serialize(&mut *self.w)
    }

    fn item<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.comma();
        v.serialize(&mut *self.w)
    }

    fn close(self, c: u8) -> Result<(), Error> {
        self.w.byte(c);
        if self.variant {
            self.w.byte(b'}');
        }
        Ok(())
    }
}

/// Integers in decimal, as itoa writes them.
macro_rules! ints {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            self.int(v);
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.put(if v { "true" } else { "false" });
        Ok(())
    }
    ints!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64
    );
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v, v.is_finite());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v, v.is_finite());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.literal(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        if self.raw_next {
            self.raw_next = false;
            self.put(v);
        } else {
            self.literal(v);
        }
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.put("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        if name == RAW {
            let at = self.out.len();
            self.raw_next = true;
            v.serialize(&mut *self)?;
            if self.raw_next || self.out.get(at) != Some(&b'"') {
                return Err(Error("a raw value must be a string literal".into()));
            }
            return Ok(());
        }
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.byte(b'{');
        self.literal(variant);
        self.byte(b':');
        v.serialize(&mut *self)?;
        self.byte(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.open(None, b'[')
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.open(Some(variant), b'[')
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.open(None, b'{')
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.open(Some(variant), b'{')
    }
}

/// Lists, tuples and tuple variants: items separated by commas, closed by `]`.
macro_rules! seq_like {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.item(v)
            }
            fn end(self) -> Result<(), Error> {
                self.close(b']')
            }
        }
    )*};
}
seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    /// Keys are strings here (every map the core writes is keyed by name).
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        let at = self.w.out.len();
        key.serialize(&mut *self.w)?;
        if !matches!(self.w.out.get(at), Some(b'"' | b'\\')) {
            return Err(Error("map keys must be strings".into()));
        }
        self.w.byte(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close(b'}')
    }
}

/// Structs and struct variants: named fields, closed by `}`.
macro_rules! struct_like {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            #[inline(always)]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.field(key, v)
            }
            fn end(self) -> Result<(), Error> {
                self.close(b'}')
            }
        }
    )*};
}
struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    #[serde(tag = "action", rename_all = "snake_case")]
    enum Tagged {
        Use,
        RetryAt { at: i64 },
        Fail(BTreeMap<String, String>),
    }

    #[derive(Serialize)]
    enum External {
        Unit,
        New(u8),
        Tuple(u8, bool),
        Struct { a: Option<String> },
    }

    fn same<T: Serialize>(v: T) {
        assert_eq!(to_json(&v).unwrap(), serde_json::to_string(&v).unwrap());
    }

    /// Byte-for-byte what serde_json writes: the golden vectors and Zoom's bodies depend on it.
    #[test]
    fn writes_what_serde_json_writes() {
        let all_bytes: String = (0u8..128).map(char::from).collect();
        same(json!({
            "s": all_bytes,
            "unicode": "Zürich — 東京 \u{2028} 😀 a/b",
            "n": [0, -1, i64::MIN, u64::MAX, 1.5, -0.0, 1e300, 3.0e-7],
            "nested": {"empty": {}, "list": [], "null": null, "t": true, "f": false},
        }));
        same(Tagged::Use);
        same(Tagged::RetryAt { at: 5 });
        same(Tagged::Fail(BTreeMap::from([("code".into(), "x".into())])));
        same(External::Unit);
        same(External::New(3));
        same(External::Tuple(1, true));
        same(External::Struct { a: None });
        same(("a", 'é', 2u16, [1u8, 2]));
        same(f64::NAN);
        same([0.1f32, 1e-45, f32::INFINITY]);
    }

    /// Escapes make their room as they come: long texts of escapes only, of plain bytes
    /// only, and mixed, written after something already in the buffer.
    #[test]
    fn long_texts_grow_the_buffer_as_escapes_need_it() {
        let escapes: String = (0..5000).map(|i| char::from((i % 32) as u8)).collect();
        let plain = "a".repeat(5000);
        let mixed: String = (0..5000)
            .map(|i| if i % 7 == 0 { '"' } else { 'é' })
            .collect();
        for s in [escapes, plain, mixed] {
            same(vec![s.clone(), s]);
        }
    }

    /// Every byte that needs escaping, at every offset of a chunk, and long texts that make
    /// the buffer grow mid-escape: written as a literal in one pass, each is the literal of
    /// its plain JSON text.
    #[test]
    fn literals_escape_the_escapes_again() {
        let all_bytes: String = (0u8..128).map(char::from).collect();
        let mixed: String = (0..5000)
            .map(|i| if i % 7 == 0 { '"' } else { 'é' })
            .collect();
        let docs = [
            json!({"s": all_bytes, "u": "Zürich \u{2028} 😀 a/b", "n": [1, -2.5, null, true]}),
            json!([mixed, "\\".repeat(3000), "\u{1}".repeat(3000)]),
            json!("plain"),
            json!({}),
        ];
        for doc in docs {
            let plain = serde_json::to_string(&doc).unwrap();
            assert_eq!(
                to_json_literal(&doc).unwrap(),
                serde_json::to_string(&plain).unwrap()
            );
        }
        assert!(to_json_literal(&BTreeMap::from([(1u8, 2u8)])).is_err());
    }

    /// A request body is copied into the answer as the literal it was made as, and reads back
    /// as the text that goes on the wire.
    #[test]
    fn a_body_is_copied_into_the_answer_as_it_was_made() {
        let req = crate::http::HttpRequest::new("POST", "https://api.zoom.us/v2/x".into())
            .json(&json!({"topic": "a \"quoted\" topic\n", "n": 1}));
        let body = req.body.as_ref().unwrap();
        assert_eq!(body.as_text(), r#"{"n":1,"topic":"a \"quoted\" topic\n"}"#);
        let answer: serde_json::Value = serde_json::from_str(&to_json(&req).unwrap()).unwrap();
        assert_eq!(answer["body"], body.as_text());
        let form = crate::http::HttpRequest::new("POST", "https://zoom.us/oauth/token".into())
            .form(&[("a", "x\"y")]);
        assert_eq!(form.body.unwrap().as_text(), "a=x%22y");
    }

    /// A raw value must be a finished string literal; anything else is refused, not copied.
    #[test]
    fn a_raw_value_that_is_not_a_literal_is_refused() {
        struct Raw<T>(T);
        impl<T: Serialize> Serialize for Raw<T> {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_newtype_struct(RAW, &self.0)
            }
        }
        assert_eq!(to_json(&Raw("\"ok\"")).unwrap(), "\"ok\"");
        assert!(to_json(&Raw("not quoted")).is_err());
        assert!(to_json(&Raw(5)).is_err());
    }

    #[test]
    fn non_string_map_keys_are_refused() {
        let m = BTreeMap::from([(1u8, 2u8)]);
        assert!(to_json(&m).is_err());
    }
}
