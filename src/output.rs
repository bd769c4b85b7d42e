//! How the core writes its answers and request bodies: compact JSON, byte for byte what
//! serde_json writes, from any `Serialize` type.
//!
//! Written out because the .wasm runs in an interpreter: serde_json's writer goes through
//! `io::Write`, a formatter and an escape table per fragment, which at the core's size
//! optimisation meant hundreds of interpreted instructions per field. This writer appends to
//! one `String` and copies strings that need no escaping (nearly all) in one go.

use serde::ser::{self, Serialize};
use std::fmt;

/// Any `Serialize` value as compact JSON text.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    let mut w = Writer {
        out: String::with_capacity(256),
    };
    v.serialize(&mut w)?;
    Ok(w.out)
}

/// Bytes that JSON strings escape: `"`, `\` and the control characters.
static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends `s` as a JSON string literal, escaped exactly as serde_json does: `"`, `\` and
/// control characters only (`/` and non-ASCII are left as they are).
pub fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        // One table load per byte: the interpreter pays per wasm instruction, and a `match`
        // on the byte cost about twice as many.
        while i < bytes.len() && !ESCAPE[bytes[i] as usize] {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        // Escapes are ASCII, so `start..i` always falls on character boundaries.
        out.push_str(&s[start..i]);
        let b = bytes[i];
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            _ => "",
        };
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
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
    out: String,
}

impl Writer {
    /// Opens a list or object; an externally tagged variant wraps it in `{"Variant": ..}`.
    fn open(&mut self, variant: Option<&str>, bracket: char) -> Result<Compound<'_>, Error> {
        if let Some(variant) = variant {
            self.out.push('{');
            push_str_literal(&mut self.out, variant);
            self.out.push(':');
        }
        self.out.push(bracket);
        Ok(Compound {
            w: self,
            first: true,
            variant: variant.is_some(),
        })
    }

    fn int(&mut self, v: impl itoa::Integer) {
        self.out.push_str(itoa::Buffer::new().format(v));
    }

    /// As serde_json: the shortest form that reads back the same, and `null` for NaN and
    /// infinities.
    fn float<F: zmij::Float>(&mut self, v: F, finite: bool) {
        if finite {
            self.out.push_str(zmij::Buffer::new().format_finite(v));
        } else {
            self.out.push_str("null");
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
            self.w.out.push(',');
        }
        self.first = false;
    }

    /// A struct field. Its name is one of the core's own identifiers (or a `rename` in the
    /// core), which never needs escaping, so it is copied as it is.
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
        self.comma();
        let out = &mut self.w.out;
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
        v.serialize(&mut *self.w)
    }

    fn item<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.comma();
        v.serialize(&mut *self.w)
    }

    fn close(self, c: char) -> Result<(), Error> {
        self.w.out.push(c);
        if self.variant {
            self.w.out.push('}');
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
        self.out.push_str(if v { "true" } else { "false" });
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
        push_str_literal(&mut self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        push_str_literal(&mut self.out, v);
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
        self.out.push_str("null");
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
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.out.push('{');
        push_str_literal(&mut self.out, variant);
        self.out.push(':');
        v.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.open(None, '[')
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
        self.open(Some(variant), '[')
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        self.open(None, '{')
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
        self.open(Some(variant), '{')
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
                self.close(']')
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
        if !self.w.out[at..].starts_with('"') {
            return Err(Error("map keys must be strings".into()));
        }
        self.w.out.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close('}')
    }
}

/// Structs and struct variants: named fields, closed by `}`.
macro_rules! struct_like {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.field(key, v)
            }
            fn end(self) -> Result<(), Error> {
                self.close('}')
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

    #[test]
    fn non_string_map_keys_are_refused() {
        let m = BTreeMap::from([(1u8, 2u8)]);
        assert!(to_json(&m).is_err());
    }
}
