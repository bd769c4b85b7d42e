//! How the core reads its inputs: the JSON text is parsed once (by serde_json, into a
//! `Value`), then each input type takes its fields out by name. Every error is
//! `input_invalid` with the path of the field at fault (`appointment.start_unix`), and never
//! quotes a value: a value may be a secret.
//!
//! Written out rather than derived: serde's derived readers were monomorphised per input
//! type and came to about 160 KB of the .wasm, over half the core. This reader is one small
//! function per type, and the browser face reads through the very same code.

use crate::error::{CoreError, Result};
use crate::secret::Secret;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Where a value sits in the input; rendered only when an error names it.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    pub const ROOT: Path<'static> = Path {
        parent: None,
        step: Step::Root,
    };

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Index(i),
        }
    }

    fn write(&self, out: &mut String) {
        if let Some(p) = self.parent {
            p.write(out);
        }
        match self.step {
            Step::Root => {}
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }

    /// `appointment.start_unix`, `policy.alternative_hosts[1]`; the root is `input`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        if s.is_empty() {
            s.push_str("input");
        }
        s
    }

    /// `{path} {problem}`, as an `input_invalid` error on that field.
    pub fn error(&self, problem: impl std::fmt::Display) -> CoreError {
        let at = self.render();
        CoreError::field("input_invalid", at.clone(), format!("{at} {problem}"))
    }

    fn expected(&self, what: &str, got: &Value) -> CoreError {
        self.error(format_args!("must be {what}, not {}", kind(got)))
    }
}

/// A value's JSON type, for messages (never the value itself).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An input type read from JSON.
pub trait FromJson: Sized {
    fn from_json(v: Value, at: Path) -> Result<Self>;

    /// The value when the field is absent, or `None` when the field is required.
    fn absent() -> Option<Self> {
        None
    }
}

/// Reads a whole input.
pub fn read<T: FromJson>(v: Value) -> Result<T> {
    T::from_json(v, Path::ROOT)
}

/// An input object whose fields are taken out one by one. Fields it does not know are
/// refused up front, so a misspelt setting is an error rather than silently ignored.
pub struct Obj<'a> {
    map: Map<String, Value>,
    at: Path<'a>,
    /// The first field error. Fields come back as `Option`s and the error waits here: a
    /// `Result` per field made every type's reader several times larger.
    error: Option<CoreError>,
}

impl<'a> Obj<'a> {
    /// The object at `at`; `known` lists its fields, or is `None` to accept any others.
    pub fn new(v: Value, at: Path<'a>, known: Option<&[&str]>) -> Result<Self> {
        let Value::Object(map) = v else {
            return Err(at.expected("an object", &v));
        };
        if let Some(known) = known {
            if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
                let name: String = k.chars().take(64).collect();
                return Err(at.key(&name).error(format_args!(
                    "is not a known field; expected one of: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(Self {
            map,
            at,
            error: None,
        })
    }

    /// A field; absent is the type's own default (`None` for options) or an error.
    pub fn get<T: FromJson>(&mut self, key: &str) -> Option<T> {
        let v = self.map.remove(key);
        let at = self.at.key(key);
        let r = match v {
            Some(v) => T::from_json(v, at),
            None => T::absent().ok_or_else(|| at.error("is required")),
        };
        self.keep(r)
    }

    /// A field with a default for when it is absent.
    pub fn get_or<T: FromJson>(&mut self, key: &str, default: impl FnOnce() -> T) -> Option<T> {
        let r = match self.map.remove(key) {
            Some(v) => T::from_json(v, self.at.key(key)),
            None => Ok(default()),
        };
        self.keep(r)
    }

    fn keep<T>(&mut self, r: Result<T>) -> Option<T> {
        r.map_err(|e| self.error = Some(e)).ok()
    }

    /// The struct built from the fields, or the first field's error.
    pub fn finish<T>(self, built: Option<T>) -> Result<T> {
        match (built, self.error) {
            (Some(t), _) => Ok(t),
            (None, Some(e)) => Err(e),
            (None, None) => Err(self.at.error("could not be read")),
        }
    }
}

impl FromJson for Value {
    fn from_json(v: Value, _: Path) -> Result<Self> {
        Ok(v)
    }
}

impl FromJson for String {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        match v {
            Value::String(s) => Ok(s),
            v => Err(at.expected("a string", &v)),
        }
    }
}

impl FromJson for Secret {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        String::from_json(v, at).map(Secret::new)
    }
}

impl FromJson for bool {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        v.as_bool().ok_or_else(|| at.expected("true or false", &v))
    }
}

impl FromJson for i64 {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        match &v {
            Value::Number(n) if !n.is_f64() => {
                n.as_i64().ok_or_else(|| at.error("is out of range"))
            }
            _ => Err(at.expected("an integer", &v)),
        }
    }
}

fn unsigned(v: Value, at: Path, max: u64) -> Result<u64> {
    match &v {
        Value::Number(n) if !n.is_f64() => match n.as_u64() {
            Some(x) if x <= max => Ok(x),
            Some(_) => Err(at.error("is out of range")),
            None => Err(at.error("must not be negative")),
        },
        _ => Err(at.expected("a non-negative integer", &v)),
    }
}

impl FromJson for u64 {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        unsigned(v, at, u64::MAX)
    }
}

impl FromJson for u32 {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        unsigned(v, at, u32::MAX.into()).map(|x| x as u32)
    }
}

impl FromJson for u16 {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        unsigned(v, at, u16::MAX.into()).map(|x| x as u16)
    }
}

/// Absent or `null` is `None`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_json(v, at).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| T::from_json(item, at.index(i)))
                .collect(),
            v => Err(at.expected("an array", &v)),
        }
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json(v: Value, at: Path) -> Result<Self> {
        let o = Obj::new(v, at, None)?;
        o.map
            .into_iter()
            .map(|(k, v)| {
                let item = T::from_json(v, at.key(&k))?;
                Ok((k, item))
            })
            .collect()
    }
}

/// Reads a unit enum from its snake_case name.
pub fn name<T: Copy>(v: Value, at: Path, names: &[(&str, T)]) -> Result<T> {
    let wanted = || {
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!("one of: {}", list.join(", "))
    };
    match &v {
        Value::String(s) => names
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| at.error(format_args!("must be {}", wanted()))),
        _ => Err(at.expected(&wanted(), &v)),
    }
}

/// `FromJson` for a struct, field by field. `field = expr` gives the value when the field
/// is absent; `Type(open)` accepts fields it does not know (for records the host stores and
/// may extend).
#[macro_export]
macro_rules! from_json {
    ($ty:ident $(($open:ident))? { $($field:ident $(= $default:expr)?),* $(,)? }) => {
        impl $crate::input::FromJson for $ty {
            fn from_json(
                v: serde_json::Value,
                at: $crate::input::Path,
            ) -> $crate::error::Result<Self> {
                let known: &[&str] = &[$(stringify!($field)),*];
                let known = $crate::from_json!(@known known $($open)?);
                let mut o = $crate::input::Obj::new(v, at, known)?;
                let built = (|| {
                    Some(Self {
                        $($field: $crate::from_json!(@get o $field $($default)?),)*
                    })
                })();
                o.finish(built)
            }
        }
    };
    (@known $k:ident) => { Some($k) };
    (@known $k:ident open) => {{ let _ = $k; None }};
    (@get $o:ident $field:ident) => { $o.get(stringify!($field))? };
    (@get $o:ident $field:ident $default:expr) => { $o.get_or(stringify!($field), || $default)? };
}

/// `FromJson` for a unit enum from its snake_case names.
#[macro_export]
macro_rules! from_json_names {
    ($ty:ident { $($name:literal => $variant:ident),* $(,)? }) => {
        impl $crate::input::FromJson for $ty {
            fn from_json(
                v: serde_json::Value,
                at: $crate::input::Path,
            ) -> $crate::error::Result<Self> {
                $crate::input::name(v, at, &[$(($name, $ty::$variant)),*])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    struct Inner {
        n: u16,
    }
    crate::from_json!(Inner { n });

    #[derive(Debug, PartialEq)]
    struct Outer {
        id: u64,
        name: Option<String>,
        flag: bool,
        tries: u32,
        inner: Option<Inner>,
        list: Vec<i64>,
    }
    crate::from_json!(Outer {
        id,
        name,
        flag = false,
        tries = 1,
        inner,
        list = Vec::new()
    });

    fn err(v: Value) -> CoreError {
        read::<Outer>(v).unwrap_err()
    }

    #[test]
    fn reads_fields_defaults_and_options() {
        let o: Outer = read(json!({"id": 7, "inner": {"n": 443}, "list": [1, -2]})).unwrap();
        assert_eq!(
            o,
            Outer {
                id: 7,
                name: None,
                flag: false,
                tries: 1,
                inner: Some(Inner { n: 443 }),
                list: vec![1, -2]
            }
        );
        assert_eq!(
            read::<Outer>(json!({"id": 1, "name": null})).unwrap().name,
            None
        );
    }

    #[test]
    fn every_error_names_its_field_and_never_the_value() {
        let e = err(json!({"id": "secret-looking-value"}));
        assert_eq!((e.code, e.field.as_deref()), ("input_invalid", Some("id")));
        assert_eq!(e.message, "id must be a non-negative integer, not a string");
        assert!(!e.message.contains("secret-looking"));

        let e = err(json!({"id": 1, "inner": {"n": 70000}}));
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        assert_eq!(e.message, "inner.n is out of range");

        let e = err(json!({"id": 1, "list": [1, 2.5]}));
        assert_eq!(e.message, "list[1] must be an integer, not a fraction");

        let e = err(json!({"id": -1}));
        assert_eq!(e.message, "id must not be negative");

        let e = err(json!({}));
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("id"), "id is required")
        );

        let e = err(json!({"id": 1, "inner": {"n": 1, "m": 2}}));
        assert_eq!(e.field.as_deref(), Some("inner.m"));
        assert_eq!(
            e.message,
            "inner.m is not a known field; expected one of: n"
        );

        let e = err(json!([1]));
        assert_eq!(e.message, "input must be an object, not an array");
    }
}
