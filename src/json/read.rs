//! How the core reads its inputs: the JSON text is parsed once (`parse`, into [`Json`], a
//! lean tree that borrows strings from the text), then each input type takes its fields
//! out by name. Every error is `input_invalid` with the path of the field at fault
//! (`appointment.start_unix`), and never quotes a value: a value may be a secret.
//!
//! Written out rather than derived: serde's derived readers were monomorphised per input
//! type and came to about 160 KB of the .wasm, over half the core. This reader is one small
//! function per type, and the browser face reads through the very same code. The tree is
//! not serde_json's `Value` because, in the interpreter, copying every key and string and
//! sorting objects into B-trees cost about a quarter of a create call.

use crate::error::{CoreError, Result};
use crate::secret::Secret;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use super::parse::same_key;
pub use super::parse::SyntaxError;
/// `#[derive(FromJson)]` (tools/json-derive): the reader of a struct, field by field, or of a
/// unit enum, by name, generated from the type and the serde attributes it carries.
pub use json_derive::FromJson;

/// A parsed input. Strings borrow from the request text unless they had escapes; objects
/// keep their fields in order (a repeated key: the last one counts, as with `Value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// Non-negative integers.
    UInt(u64),
    /// Negative integers.
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Arr(Vec<Json<'a>>),
    Obj(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses JSON text (serde_json's grammar and limits: depth 128, no NaN).
    pub fn parse(text: &'a str) -> std::result::Result<Self, SyntaxError> {
        super::parse::parse(text)
    }

    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Float(_) => "a fraction",
            Json::UInt(_) | Json::Int(_) => "an integer",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }
}

/// What the core passes through without reading it all (Zoom's meeting settings, the
/// clinic's policy, an interpreted answer handed back): kept as the tree itself, owned, and
/// written back out as it came. Through serde_json's `Value` instead, every object was
/// sorted into a B-tree on the way in and torn down on the way out, which was the largest
/// item of a lifecycle step in the interpreter.
impl<'a> Json<'a> {
    /// The same tree, owning its strings.
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::UInt(n) => Json::UInt(n),
            Json::Int(n) => Json::Int(n),
            Json::Float(f) => Json::Float(f),
            Json::Str(s) => Json::Str(Cow::Owned(s.into_owned())),
            Json::Arr(a) => Json::Arr(a.into_iter().map(Json::into_owned).collect()),
            Json::Obj(o) => Json::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// An object of the given fields.
    pub fn object<const N: usize>(fields: [(&'static str, Json<'a>); N]) -> Self {
        Json::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(k), v))
                .collect(),
        )
    }

    /// Sets a field of an object (replacing one of the same name); a no-op on anything else.
    pub fn set(&mut self, key: &'static str, value: Json<'a>) {
        if let Json::Obj(o) = self {
            match o.iter_mut().rfind(|(k, _)| same_key(k, key)) {
                Some((_, v)) => *v = value,
                None => o.push((Cow::Borrowed(key), value)),
            }
        }
    }

    /// An object's field (the last, if the key is repeated).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Obj(o) => o.iter().rfind(|(k, _)| same_key(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }
}

impl From<&str> for Json<'static> {
    fn from(s: &str) -> Self {
        Json::Str(Cow::Owned(s.to_string()))
    }
}

impl From<String> for Json<'static> {
    fn from(s: String) -> Self {
        Json::Str(Cow::Owned(s))
    }
}

impl From<u64> for Json<'static> {
    fn from(n: u64) -> Self {
        Json::UInt(n)
    }
}

impl From<i64> for Json<'static> {
    fn from(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(u) => Json::UInt(u),
            Err(_) => Json::Int(n),
        }
    }
}

impl<T: Into<Json<'static>>> From<Option<T>> for Json<'static> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

/// Written as it was read: objects keep their order.
impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::UInt(n) => s.serialize_u64(*n),
            Json::Int(n) => s.serialize_i64(*n),
            Json::Float(f) => s.serialize_f64(*f),
            Json::Str(t) => s.serialize_str(t),
            Json::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Obj(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

/// Passed through, owned (see `Json::into_owned`).
impl FromJson for Json<'static> {
    fn from_json(v: Json, _: Path) -> Result<Self> {
        Ok(v.into_owned())
    }
}

impl From<Json<'_>> for Value {
    fn from(j: Json<'_>) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::UInt(n) => Value::from(n),
            Json::Int(n) => Value::from(n),
            Json::Float(f) => Value::from(f),
            Json::Str(s) => Value::String(s.into_owned()),
            Json::Arr(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            Json::Obj(o) => {
                // Inserted one by one: collecting would pull in B-tree bulk building.
                let mut map = serde_json::Map::new();
                for (k, v) in o {
                    map.insert(k.into_owned(), Value::from(v));
                }
                Value::Object(map)
            }
        }
    }
}

impl From<Value> for Json<'static> {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Json::UInt(u),
                (None, Some(i)) => Json::Int(i),
                _ => Json::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => Json::Str(Cow::Owned(s)),
            Value::Array(a) => Json::Arr(a.into_iter().map(Json::from).collect()),
            Value::Object(o) => Json::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Json::from(v)))
                    .collect(),
            ),
        }
    }
}

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

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
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

    /// "must be {what}, not {the value's JSON type}" (never the value itself).
    fn expected(&self, what: &str, got: &Json) -> CoreError {
        self.error(format_args!("must be {what}, not {}", got.kind()))
    }
}

/// An input type read from JSON.
pub trait FromJson: Sized {
    fn from_json(v: Json, at: Path) -> Result<Self>;

    /// The value when the field is absent, or `None` when the field is required.
    fn absent() -> Option<Self> {
        None
    }
}

/// Reads a whole input (parsed text, or a `Value` from the browser face and tests).
pub fn read<'a, T: FromJson>(v: impl Into<Json<'a>>) -> Result<T> {
    T::from_json(v.into(), Path::ROOT)
}

/// An input object whose fields are taken out one by one. Fields it does not know are
/// refused, so a misspelt setting is an error rather than silently ignored; and that error
/// comes before any other of the object's.
pub struct Obj<'a, 'j> {
    fields: Vec<(Cow<'j, str>, Json<'j>)>,
    /// Bit `i`: field `i` has been taken.
    taken: u64,
    /// Past 64 fields: taken fields are removed instead, and unknown ones were refused up
    /// front.
    many: bool,
    /// The known fields, checked against what is left once the reads are done: matching
    /// every key against the list up front cost a string comparison per pair, the largest
    /// single item of a lifecycle step in the interpreter. `None`: any field is accepted,
    /// or (past 64 fields, more than `taken` can track) they were checked up front.
    known: Option<&'static [&'static str]>,
    at: Path<'a>,
    /// The first field error. Fields come back as `Option`s and the error waits here: a
    /// `Result` per field made every type's reader several times larger.
    error: Option<CoreError>,
}

impl<'a, 'j> Obj<'a, 'j> {
    /// The object at `at`; `known` lists its fields, or is `None` to accept any others.
    pub fn new(v: Json<'j>, at: Path<'a>, known: Option<&'static [&'static str]>) -> Result<Self> {
        let Json::Obj(fields) = v else {
            return Err(at.expected("an object", &v));
        };
        let mut o = Self {
            fields,
            taken: 0,
            many: false,
            known,
            at,
            error: None,
        };
        if o.fields.len() > 64 {
            o.many = true;
            o.unknown()?;
            o.known = None;
        }
        Ok(o)
    }

    /// The first field, in input order, that is neither taken nor known.
    fn unknown(&self) -> Result<()> {
        let Some(known) = self.known else {
            return Ok(());
        };
        let untaken = |i: usize| self.many || self.taken & (1 << i) == 0;
        match self
            .fields
            .iter()
            .enumerate()
            .find(|(i, (k, _))| untaken(*i) && !known.contains(&k.as_ref()))
        {
            Some((_, (k, _))) => {
                let name: String = k.chars().take(64).collect();
                Err(self.at.key(&name).error(format_args!(
                    "is not a known field; expected one of: {}",
                    known.join(", ")
                )))
            }
            None => Ok(()),
        }
    }

    /// Takes a field out (the last one, if the key is repeated).
    fn take(&mut self, key: &str) -> Option<Json<'j>> {
        if self.many {
            let i = self.fields.iter().rposition(|(k, _)| same_key(k, key))?;
            return Some(self.fields.swap_remove(i).1);
        }
        let taken = self.taken;
        let i = self
            .fields
            .iter()
            .enumerate()
            .rposition(|(i, (k, _))| same_key(k, key) && taken & (1 << i) == 0)?;
        self.taken |= 1 << i;
        Some(std::mem::replace(&mut self.fields[i].1, Json::Null))
    }

    /// A field; absent is the type's own default (`None` for options) or an error.
    pub fn get<T: FromJson>(&mut self, key: &str) -> Option<T> {
        let v = self.take(key);
        let at = self.at.key(key);
        let r = match v {
            Some(v) => T::from_json(v, at),
            None => T::absent().ok_or_else(|| at.error("is required")),
        };
        self.keep(r)
    }

    /// A field with a default for when it is absent.
    pub fn get_or<T: FromJson>(&mut self, key: &str, default: impl FnOnce() -> T) -> Option<T> {
        let r = match self.take(key) {
            Some(v) => T::from_json(v, self.at.key(key)),
            None => Ok(default()),
        };
        self.keep(r)
    }

    fn keep<T>(&mut self, r: Result<T>) -> Option<T> {
        r.map_err(|e| self.error = Some(e)).ok()
    }

    /// The struct built from the fields; or the first unknown field, or the first field's
    /// error.
    pub fn finish<T>(self, built: Option<T>) -> Result<T> {
        self.unknown()?;
        let Obj {
            fields, error, at, ..
        } = self;
        crate::abi::discard(fields);
        match (built, error) {
            (Some(t), _) => Ok(t),
            (None, Some(e)) => Err(e),
            (None, None) => Err(at.error("could not be read")),
        }
    }
}

/// What `#[derive(FromJson)]` reads a `#[from_json(inline)]` struct with: the object's entries
/// sorted into the struct's slots in one pass, then each field read from its slot (see
/// `json_derive`).
pub mod derived {
    use super::*;

    /// The object's entries, or the error for what is there instead.
    pub fn entries<'j>(v: Json<'j>, at: &Path) -> Result<Vec<(Cow<'j, str>, Json<'j>)>> {
        match v {
            Json::Obj(fields) => Ok(fields),
            v => Err(at.expected("an object", &v)),
        }
    }

    pub use super::super::parse::same_key;

    /// A value the struct does not keep (an unknown field it accepts, or a repeated key's
    /// earlier value), let go of without walking it.
    pub fn drop_value(v: Json) {
        crate::abi::discard(v);
    }

    /// The error for the first field, in input order, that the struct does not know.
    pub fn unknown(at: &Path, key: &str, known: &[&str]) -> CoreError {
        let name: String = key.chars().take(64).collect();
        at.key(&name).error(format_args!(
            "is not a known field; expected one of: {}",
            known.join(", ")
        ))
    }

    /// A field the object has. The first error is kept in `err` and reading stops there.
    pub fn present<T: FromJson>(v: Json, at: Path, err: &mut Option<CoreError>) -> Option<T> {
        T::from_json(v, at).map_err(|e| *err = Some(e)).ok()
    }

    /// A field without a default that the object does not have: `None` for an `Option`,
    /// else the error that it is required.
    pub fn absent<T: FromJson>(at: Path, err: &mut Option<CoreError>) -> Option<T> {
        T::absent()
            .ok_or_else(|| at.error("is required"))
            .map_err(|e| *err = Some(e))
            .ok()
    }

    /// The struct, or the first field's error.
    pub fn built<T>(built: Option<T>, err: Option<CoreError>, at: &Path) -> Result<T> {
        match (built, err) {
            (Some(t), _) => Ok(t),
            (None, Some(e)) => Err(e),
            (None, None) => Err(at.error("could not be read")),
        }
    }
}

/// For `#[serde(default = "crate::json::yes")]`: a flag that is on unless said otherwise.
pub fn yes() -> bool {
    true
}

/// A field of an answer the core does not own (Zoom's): read when it has the expected type,
/// absent otherwise, so a field Zoom changes or drops never fails the whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T: FromJson> FromJson for Lenient<T> {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        Ok(Self(T::from_json(v, at).ok()))
    }

    fn absent() -> Option<Self> {
        Some(Self(None))
    }
}

impl<T> Lenient<T> {
    pub fn get(self) -> Option<T> {
        self.0
    }
}

impl Lenient<String> {
    /// The text, unless it is empty.
    pub fn text(self) -> Option<String> {
        self.0.filter(|s| !s.is_empty())
    }
}

/// Values passed through as they are (a Zoom record the host hands back, say).
impl FromJson for Value {
    fn from_json(v: Json, _: Path) -> Result<Self> {
        Ok(v.into())
    }
}

impl FromJson for String {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        match v {
            Json::Str(s) => Ok(s.into_owned()),
            v => Err(at.expected("a string", &v)),
        }
    }
}

impl FromJson for Secret {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        String::from_json(v, at).map(Secret::new)
    }
}

impl FromJson for bool {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        match v {
            Json::Bool(b) => Ok(b),
            v => Err(at.expected("true or false", &v)),
        }
    }
}

impl FromJson for i64 {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        match v {
            Json::Int(n) => Ok(n),
            Json::UInt(n) => i64::try_from(n).map_err(|_| at.error("is out of range")),
            v => Err(at.expected("an integer", &v)),
        }
    }
}

fn unsigned(v: Json, at: Path, max: u64) -> Result<u64> {
    match v {
        Json::UInt(x) if x <= max => Ok(x),
        Json::UInt(_) => Err(at.error("is out of range")),
        Json::Int(_) => Err(at.error("must not be negative")),
        v => Err(at.expected("a non-negative integer", &v)),
    }
}

impl FromJson for u64 {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        unsigned(v, at, u64::MAX)
    }
}

impl FromJson for u32 {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        unsigned(v, at, u32::MAX.into()).map(|x| x as u32)
    }
}

impl FromJson for u16 {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        unsigned(v, at, u16::MAX.into()).map(|x| x as u16)
    }
}

/// Absent or `null` is `None`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        match v {
            Json::Null => Ok(None),
            v => T::from_json(v, at).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        match v {
            Json::Arr(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| T::from_json(item, at.index(i)))
                .collect(),
            v => Err(at.expected("an array", &v)),
        }
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json(v: Json, at: Path) -> Result<Self> {
        let o = Obj::new(v, at, None)?;
        let mut map = BTreeMap::new();
        for (k, v) in o.fields {
            let item = T::from_json(v, at.key(&k))?;
            map.insert(k.into_owned(), item);
        }
        Ok(map)
    }
}

/// Reads a unit enum from its snake_case name.
pub fn name<T: Copy>(v: Json, at: Path, names: &[(&str, T)]) -> Result<T> {
    let wanted = || {
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!("one of: {}", list.join(", "))
    };
    match &v {
        Json::Str(s) => names
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| at.error(format_args!("must be {}", wanted()))),
        _ => Err(at.expected(&wanted(), &v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One struct read both ways: `Shared` through `Obj`, `Inline` through the one-pass slots
    /// (`#[from_json(inline)]`). Same fields, same defaults.
    macro_rules! twin {
        ($name:ident $(, $attr:meta)?) => {
            #[derive(Debug, PartialEq, FromJson)]
            #[serde(deny_unknown_fields)]
            $(#[$attr])?
            struct $name {
                id: u32,
                #[serde(rename = "type")]
                kind: String,
                note: Option<String>,
                #[serde(default)]
                tags: Vec<String>,
                #[serde(default = "crate::json::yes")]
                on: bool,
                /// Same length as `note`, so the two share a length bucket.
                name: Option<String>,
            }
        };
    }
    twin!(Shared);
    twin!(Inline, from_json(inline));

    #[test]
    fn the_inline_reader_answers_exactly_as_the_shared_one() {
        let cases = [
            json!({"id": 1, "type": "a"}),
            json!({"type": "a", "id": 2, "note": "n", "tags": ["x"], "on": false, "name": "m"}),
            // A repeated key: the last value wins.
            json!({"id": 1, "type": "a", "note": "first"}),
            // Unknown fields: the first in input order, before any field error.
            json!({"id": "bad", "zzz": 1, "yyy": 2, "type": "a"}),
            json!({"idx": 1, "type": "a"}),
            // Field errors: the first in declaration order, whatever the input order.
            json!({"type": 5, "id": "x"}),
            json!({"on": "yes", "type": "a", "id": 1, "note": 3}),
            // Missing required fields.
            json!({"type": "a"}),
            json!({}),
            // Not an object.
            json!([1, 2]),
            json!("text"),
        ];
        for case in cases {
            let shared =
                read::<Shared>(case.clone()).map(|s| format!("{s:?}").replacen("Shared", "", 1));
            let inline =
                read::<Inline>(case.clone()).map(|s| format!("{s:?}").replacen("Inline", "", 1));
            let show = |r: &Result<String>| match r {
                Ok(s) => s.clone(),
                Err(e) => format!("{} {:?} {}", e.code, e.field, e.message),
            };
            assert_eq!(show(&inline), show(&shared), "{case}");
        }
        // Repeated keys cannot be written with json!: from text.
        let text = r#"{"id": 1, "type": "a", "note": "first", "note": "last"}"#;
        let shared: Shared = read(Json::parse(text).unwrap()).unwrap();
        let inline: Inline = read(Json::parse(text).unwrap()).unwrap();
        assert_eq!(inline.note.as_deref(), Some("last"));
        assert_eq!(shared.note, inline.note);
    }

    #[derive(Debug, PartialEq, FromJson)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        n: u16,
    }

    #[derive(Debug, PartialEq, FromJson)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        id: u64,
        name: Option<String>,
        #[serde(default)]
        flag: bool,
        #[serde(default = "one")]
        tries: u32,
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<i64>,
    }

    fn one() -> u32 {
        1
    }

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
    fn the_tree_borrows_plain_strings_and_the_last_repeated_key_counts() {
        let text = r#"{"id": 1, "name": "plain", "esc": "a\"b", "id": 2, "n": -3, "f": 0.5}"#;
        let tree = Json::parse(text).unwrap();
        let Json::Obj(fields) = &tree else {
            panic!("not an object")
        };
        assert!(matches!(&fields[1].1, Json::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&fields[2].1, Json::Str(Cow::Owned(s)) if s == "a\"b"));
        assert_eq!(fields[4].1, Json::Int(-3));
        assert_eq!(fields[5].1, Json::Float(0.5));
        assert_eq!(
            read::<Inner>(Json::parse(r#"{"n": 1, "n": 2}"#).unwrap()).unwrap(),
            Inner { n: 2 }
        );
        assert_eq!(Value::from(tree)["id"], 2);
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

    #[test]
    fn an_unknown_field_is_the_error_whatever_else_is_wrong_and_whatever_its_place() {
        // Before the field that fails, after it, and with the known fields all fine.
        for text in [
            r#"{"idd": 1, "id": "x"}"#,
            r#"{"id": "x", "idd": 1}"#,
            r#"{"id": 1, "name": "n", "idd": 1}"#,
        ] {
            let e = read::<Outer>(Json::parse(text).unwrap()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("idd"), "{text}");
        }
        // The first unknown one in input order, and a repeated known key is not unknown.
        let text = r#"{"id": 1, "id": 2, "zz": 1, "aa": 2}"#;
        let e = read::<Outer>(Json::parse(text).unwrap()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("zz"));
    }

    #[test]
    fn objects_past_sixty_four_fields_read_and_refuse_alike() {
        let mut fields: Vec<String> = (0..70).map(|i| format!("\"x{i}\": {i}")).collect();
        fields.push("\"n\": 5".into());
        let text = format!("{{{}}}", fields.join(","));
        let e = read::<Inner>(Json::parse(&text).unwrap()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("x0"));
        let wide: BTreeMap<String, u64> = read(Json::parse(&text).unwrap()).unwrap();
        assert_eq!((wide.len(), wide["n"]), (71, 5));
        let text = format!(
            "{{{}, \"n\": 6}}",
            (0..70).map(|_| "\"n\": 1").collect::<Vec<_>>().join(",")
        );
        assert_eq!(
            read::<Inner>(Json::parse(&text).unwrap()).unwrap(),
            Inner { n: 6 }
        );
    }
}
