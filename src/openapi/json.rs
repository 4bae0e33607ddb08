//! Reading the OpenAPI answers (the models of [`cloudapi`](super::cloudapi),
//! [`vpc`](super::vpc), [`cbn`](super::cbn), [`fc`](super::fc) and [`cms`](super::cms)) from
//! the parsed [`Value`], instead of with serde's derived `Deserialize`.
//!
//! **Why: the binary's size.** serde's derive gives each of the 51 models a field visitor, a
//! map visitor and a sequence visitor, compiled for serde_json's `Value` deserializer (most of
//! the 117 KB of `.text` that `nm -S` attributes to the `nullable` helper this replaces). A
//! model here is one short function, written by `json_model!`: it looks its keys up with
//! `Fields` (not generic) and calls each field type's [`FromJson`], compiled once per field
//! type rather than once per model. The musl release binary went from 5,246,904 to 5,050,296
//! bytes (−196,608).
//!
//! **Rules**, serde's as the models used them (`rename`, and `default` with `deserialize_with =
//! "nullable"`), so that every answer reads as before (and the CLI's configuration file,
//! `credentials.rs`, with serde's `default` alone):
//! - a key the model does not name is ignored;
//! - a missing key is `None` for an `Option` field, the default for a `nullable` or a
//!   `default` one (the products omit empty lists and wrappers), an error for any other field;
//! - `null` is `None` for an `Option`, the default for a `nullable` field, an error elsewhere
//!   (a `default` `String` too);
//! - a value of another JSON type is an error: a string is never read as a number, nor a
//!   number as a string; where an integer is expected, a number with a fraction or an exponent
//!   is an error, and so is one outside `i64`;
//! - a model may also be written as an array of its fields in declaration order (serde_json
//!   reads a struct from an array): a missing trailing element is the default of a `nullable`
//!   or `default` field and an error for the others, an extra element is an error.
//!
//! An error says where, as a path from the answer's root, and what was expected:
//! `` `Apps.AppAttribute[0].AppId`: expected an integer, found a string ``. It names JSON
//! types, never values (an answer may hold secrets: a function's environment variables).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// A type read from a JSON value with the rules of the module doc.
pub trait FromJson: Sized {
    /// Reads `v`.
    fn from_json(v: &Value) -> Result<Self, DecodeError>;

    /// The value of a field whose key is missing, if it may be missing: `None` for an
    /// `Option`; for other types, none (the missing key is an error).
    fn missing() -> Option<Self> {
        None
    }
}

/// Why an answer is not the documented shape: where (a path such as
/// `Apps.AppAttribute[0].AppId`, empty for the root) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(Box<Where>);

/// Boxed: the `Result`s and [`Fields`] that carry an error stay small, and so does the code
/// that moves them (16 KB of the binary).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Where {
    path: String,
    message: String,
}

impl DecodeError {
    fn new(message: String) -> Self {
        Self(Box::new(Where {
            path: String::new(),
            message,
        }))
    }

    /// `expected {what}, found {the JSON type of found}`.
    #[cold]
    fn expected(what: &str, found: &Value) -> Self {
        let found = match found {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(n) if n.is_f64() => "a number with a fraction or an exponent",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        Self::new(format!("expected {what}, found {found}"))
    }

    /// Where the error is, from the answer's root (empty for the root itself).
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// What was expected there.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The same error one level up, in the field `key`.
    #[cold]
    fn in_field(mut self, key: &str) -> Self {
        let path = &mut self.0.path;
        *path = match path.as_bytes().first() {
            None => key.to_owned(),
            Some(b'[') => format!("{key}{path}"),
            Some(_) => format!("{key}.{path}"),
        };
        self
    }

    /// The same error one level up, in the element `index` of an array.
    #[cold]
    fn at_index(mut self, index: usize) -> Self {
        let path = &mut self.0.path;
        *path = match path.as_bytes().first() {
            None | Some(b'[') => format!("[{index}]{path}"),
            Some(_) => format!("[{index}].{path}"),
        };
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Where { path, message } = &*self.0;
        if path.is_empty() {
            f.write_str(message)
        } else {
            write!(f, "`{path}`: {message}")
        }
    }
}

impl std::error::Error for DecodeError {}

impl FromJson for String {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(DecodeError::expected("a string", v)),
        }
    }
}

impl FromJson for bool {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(DecodeError::expected("a boolean", v)),
        }
    }
}

impl FromJson for i64 {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::Number(n) if !n.is_f64() => n.as_i64().ok_or_else(|| {
                DecodeError::new("expected an integer, found one outside i64's range".into())
            }),
            _ => Err(DecodeError::expected("an integer", v)),
        }
    }
}

/// Any JSON, as it is (for calls without a model, e.g. [`Client::rpc`](super::Client::rpc)).
impl FromJson for Value {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        Ok(v.clone())
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        match v {
            Value::Null => Ok(None),
            _ => T::from_json(v).map(Some),
        }
    }

    fn missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        let Value::Array(items) = v else {
            return Err(DecodeError::expected("an array", v));
        };
        // A loop rather than `collect` into a `Result`: less code per element type.
        let mut list = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            list.push(T::from_json(item).map_err(|e| e.at_index(i))?);
        }
        Ok(list)
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        let Value::Object(entries) = v else {
            return Err(DecodeError::expected("an object", v));
        };
        let mut map = BTreeMap::new();
        for (k, item) in entries {
            map.insert(k.clone(), T::from_json(item).map_err(|e| e.in_field(k))?);
        }
        Ok(map)
    }
}

/// The fields of one model being read, in declaration order: looked up by key in an object,
/// by position in an array. What [`json_model!`] generates calls this: the model starts with
/// every field's default, each field is read into its place, and the first error is kept for
/// [`Fields::end`]. (Returning early at each field instead, each return drops the fields read
/// so far: the binary was 28 KB larger that way.)
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    of: Of<'a>,
    /// The position of the next field.
    next: usize,
    /// The model's name, for errors.
    model: &'static str,
    /// The first error.
    error: Option<DecodeError>,
}

#[derive(Debug)]
enum Of<'a> {
    Object(&'a Map<String, Value>),
    Array(&'a [Value]),
}

impl<'a> Fields<'a> {
    /// The fields of `v`, an object or an array, for the model `model`. Another value is an
    /// error, which [`Fields::end`] returns (no field is read).
    pub(crate) fn of(v: &'a Value, model: &'static str) -> Self {
        let (of, error) = match v {
            Value::Object(m) => (Of::Object(m), None),
            Value::Array(a) => (Of::Array(a), None),
            _ => (
                Of::Array(&[]),
                Some(DecodeError::expected(&format!("an object ({model})"), v)),
            ),
        };
        Self {
            of,
            next: 0,
            model,
            error,
        }
    }

    /// The value of the next field, named `key`, if there is one.
    fn take(&mut self, key: &str) -> Option<&'a Value> {
        let at = self.next;
        self.next += 1;
        match self.of {
            Of::Object(m) => m.get(key),
            Of::Array(a) => a.get(at),
        }
    }

    /// Reads the next field, `key`, into `slot`: a missing key is [`FromJson::missing`] (an
    /// array's missing element is an error, as in serde).
    pub(crate) fn field<T: FromJson>(&mut self, slot: &mut T, key: &str) {
        if self.error.is_some() {
            return;
        }
        match self.take(key) {
            Some(v) => self.store(slot, key, v),
            None => {
                // An array's missing element is an error, whatever the type.
                let default = match self.of {
                    Of::Object(_) => T::missing(),
                    Of::Array(_) => None,
                };
                match default {
                    Some(value) => *slot = value,
                    None => self.error = Some(self.missing(key)),
                }
            }
        }
    }

    /// Reads the next field, `key`, into `slot`, which keeps its default when the key is
    /// missing or `null` (a list or a list wrapper the products omit when empty).
    pub(crate) fn nullable<T: FromJson>(&mut self, slot: &mut T, key: &str) {
        if self.error.is_some() {
            return;
        }
        match self.take(key) {
            None | Some(Value::Null) => {}
            Some(v) => self.store(slot, key, v),
        }
    }

    /// Reads the next field, `key`, into `slot`, which keeps its default when the key is
    /// missing (serde's `default`: `null` is read as `T`, an error unless `T` is an `Option`).
    pub(crate) fn default<T: FromJson>(&mut self, slot: &mut T, key: &str) {
        if self.error.is_some() {
            return;
        }
        if let Some(v) = self.take(key) {
            self.store(slot, key, v);
        }
    }

    /// Reads `v`, the value of `key`, into `slot`, or keeps its error.
    fn store<T: FromJson>(&mut self, slot: &mut T, key: &str, v: &Value) {
        match T::from_json(v) {
            Ok(value) => *slot = value,
            Err(e) => self.error = Some(e.in_field(key)),
        }
    }

    #[cold]
    fn missing(&self, key: &str) -> DecodeError {
        DecodeError::new(match self.of {
            Of::Object(_) => format!("missing field `{key}`"),
            Of::Array(a) => format!(
                "missing field `{key}`: {} written as an array of {} elements",
                self.model,
                a.len()
            ),
        })
    }

    /// After the last field: the first error, if any; an array with more elements than the
    /// model has fields is an error too.
    pub(crate) fn end(self) -> Result<(), DecodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        match self.of {
            Of::Array(a) if a.len() > self.next => Err(DecodeError::new(format!(
                "expected at most {} elements for {}, found {}",
                self.next,
                self.model,
                a.len()
            ))),
            _ => Ok(()),
        }
    }
}

/// A model struct and its [`FromJson`]: the struct as written (attributes, doc comments,
/// fields), each field with `#[json("Key")]`, its exact JSON key, or
/// `#[json("Key", nullable)]` when missing or `null` is its default, or `#[json("Key",
/// default)]` when missing is its default (serde's `default`: `null` is read as the type).
///
/// ```ignore
/// json_model! {
///     /// `DescribeApiGroup`.
///     #[derive(Clone, Debug, Default, PartialEq, Eq)]
///     pub struct ApiGroup {
///         /// `GroupId`.
///         #[json("GroupId")]
///         pub group_id: Option<String>,
///         /// `StageItems.StageInfo[]`.
///         #[json("StageItems", nullable)]
///         pub stage_items: StageItems,
///     }
/// }
/// ```
macro_rules! json_model {
    (@read $f:ident, $slot:expr, $key:literal) => {
        $f.field(&mut $slot, $key)
    };
    (@read $f:ident, $slot:expr, $key:literal, nullable) => {
        $f.nullable(&mut $slot, $key)
    };
    (@read $f:ident, $slot:expr, $key:literal, default) => {
        $f.default(&mut $slot, $key)
    };
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:expr])*
                #[json($key:literal $(, $how:ident)?)]
                $fvis:vis $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                $fvis $field: $ty,
            )*
        }

        impl $crate::openapi::json::FromJson for $name {
            fn from_json(
                v: &::serde_json::Value,
            ) -> ::std::result::Result<Self, $crate::openapi::json::DecodeError> {
                let mut f = $crate::openapi::json::Fields::of(v, stringify!($name));
                let mut model = Self {
                    $( $field: ::std::default::Default::default(), )*
                };
                $( $crate::openapi::json::json_model!(@read f, model.$field, $key $(, $how)?); )*
                f.end()?;
                Ok(model)
            }
        }
    };
}
pub(crate) use json_model;

/// Parses `text` and reads it as `T` (tests).
#[cfg(test)]
pub(crate) fn from_str<T: FromJson>(text: &str) -> Result<T, DecodeError> {
    T::from_json(&serde_json::from_str(text).expect("test JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    json_model! {
        /// Every kind of field the models use.
        #[derive(Debug, Default, PartialEq)]
        struct Outer {
            #[json("Id")]
            id: Option<i64>,
            #[json("Name")]
            name: Option<String>,
            #[json("On")]
            on: Option<bool>,
            #[json("Inner")]
            inner: Option<Inner>,
            /// A list wrapper.
            #[json("Items", nullable)]
            items: Items,
            #[json("Tags", nullable)]
            tags: Vec<String>,
            #[json("Env", nullable)]
            env: BTreeMap<String, String>,
        }
    }

    json_model! {
        #[derive(Debug, Default, PartialEq)]
        struct Items {
            #[json("Item", nullable)]
            item: Vec<Inner>,
        }
    }

    json_model! {
        #[derive(Debug, Default, PartialEq)]
        struct Inner {
            #[json("Key")]
            key: Option<String>,
            #[json("Count")]
            count: Option<i64>,
        }
    }

    json_model! {
        /// Fields that are neither `Option` nor `nullable` (no model has one yet).
        #[derive(Debug, PartialEq)]
        struct Required {
            #[json("Must")]
            must: String,
            #[json("List")]
            list: Vec<i64>,
        }
    }

    json_model! {
        /// serde's `default` alone (the CLI's configuration file, `credentials.rs`).
        #[derive(Debug, PartialEq)]
        struct Defaults {
            #[json("S", default)]
            s: String,
            #[json("L", default)]
            l: Vec<i64>,
            #[json("O", default)]
            o: Option<bool>,
        }
    }

    /// The same models with serde's derive, as they were: the reference for the rules. Their
    /// `Debug` output is the same as the models' above.
    #[allow(dead_code)] // Their fields are read through `Debug` only.
    mod serde_twin {
        use serde::{Deserialize, Deserializer};
        use std::collections::BTreeMap;

        fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
        where
            D: Deserializer<'de>,
            T: Default + Deserialize<'de>,
        {
            Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
        }

        #[derive(Debug, Deserialize)]
        pub(super) struct Outer {
            #[serde(rename = "Id")]
            id: Option<i64>,
            #[serde(rename = "Name")]
            name: Option<String>,
            #[serde(rename = "On")]
            on: Option<bool>,
            #[serde(rename = "Inner")]
            inner: Option<Inner>,
            #[serde(rename = "Items", default, deserialize_with = "nullable")]
            items: Items,
            #[serde(rename = "Tags", default, deserialize_with = "nullable")]
            tags: Vec<String>,
            #[serde(rename = "Env", default, deserialize_with = "nullable")]
            env: BTreeMap<String, String>,
        }

        #[derive(Debug, Default, Deserialize)]
        struct Items {
            #[serde(rename = "Item", default, deserialize_with = "nullable")]
            item: Vec<Inner>,
        }

        #[derive(Debug, Default, Deserialize)]
        struct Inner {
            #[serde(rename = "Key")]
            key: Option<String>,
            #[serde(rename = "Count")]
            count: Option<i64>,
        }

        #[derive(Debug, Deserialize)]
        pub(super) struct Defaults {
            #[serde(rename = "S", default)]
            s: String,
            #[serde(rename = "L", default)]
            l: Vec<i64>,
            #[serde(rename = "O", default)]
            o: Option<bool>,
        }

        #[derive(Debug, Deserialize)]
        pub(super) struct Required {
            #[serde(rename = "Must")]
            must: String,
            #[serde(rename = "List")]
            list: Vec<i64>,
        }
    }

    /// Reads `text` both ways; the outcome (accepted or not, and the value) must agree.
    fn agree<T, S>(text: &str) -> Result<T, DecodeError>
    where
        T: FromJson + fmt::Debug,
        S: serde::de::DeserializeOwned + fmt::Debug,
    {
        let value: Value = serde_json::from_str(text).expect("test JSON");
        let ours = T::from_json(&value);
        let serde = serde_json::from_value::<S>(value);
        match (&ours, &serde) {
            (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text}: here {ours:?}, serde {serde:?}"),
        }
        ours
    }

    #[test]
    fn accepts_and_rejects_what_serde_did() {
        let accepted = [
            "{}",
            r#"{"Id":1,"Name":"n","On":true,"Inner":{"Key":"k","Count":-3},
                "Items":{"Item":[{"Key":"a"},{}]},"Tags":["t"],"Env":{"A":"1"}}"#,
            r#"{"Id":null,"Name":null,"On":null,"Inner":null,"Items":null,"Tags":null,"Env":null}"#,
            r#"{"Items":{"Item":null}}"#,
            r#"{"Items":{}}"#,
            r#"{"Other":[1,2],"id":"another key","ID":{}}"#,
            r#"{"Id":-9223372036854775808}"#,
            r#"{"Id":9223372036854775807}"#,
            // serde_json reads a struct from an array of its fields too.
            r#"{"Inner":["k",2]}"#,
            r#"{"Inner":[null,null]}"#,
            r#"{"Items":[]}"#,
            r#"{"Items":[null]}"#,
            r#"{"Items":[[{"Key":"a"},["b",1]]]}"#,
            r#"[1,"n",true,null,null,null,null]"#,
            r#"[1,"n",false,null]"#,
        ];
        for text in accepted {
            assert!(agree::<Outer, serde_twin::Outer>(text).is_ok(), "{text}");
        }
        let rejected = [
            r#"{"Id":"1"}"#,
            r#"{"Id":1.5}"#,
            r#"{"Id":1.0}"#,
            r#"{"Id":1e3}"#,
            r#"{"Id":9223372036854775808}"#,
            r#"{"Id":18446744073709551615}"#,
            r#"{"Id":true}"#,
            r#"{"Name":1}"#,
            r#"{"Name":["n"]}"#,
            r#"{"On":"true"}"#,
            r#"{"On":1}"#,
            r#"{"Inner":"x"}"#,
            r#"{"Inner":[]}"#,
            r#"{"Inner":["k"]}"#,
            r#"{"Inner":["k",2,3]}"#,
            r#"{"Inner":{"Count":"2"}}"#,
            r#"{"Items":"x"}"#,
            r#"{"Items":{"Item":{}}}"#,
            r#"{"Items":{"Item":[null]}}"#,
            r#"{"Items":{"Item":[{"Key":1}]}}"#,
            r#"{"Tags":"a,b"}"#,
            r#"{"Tags":[1]}"#,
            r#"{"Tags":{}}"#,
            r#"{"Tags":[null]}"#,
            r#"{"Env":{"A":1}}"#,
            r#"{"Env":{"A":null}}"#,
            r#"{"Env":[]}"#,
            "[]",
            "[1]",
            r#"[1,"n",true,null,null,null,null,8]"#,
            r#""x""#,
            "null",
            "1",
        ];
        for text in rejected {
            assert!(agree::<Outer, serde_twin::Outer>(text).is_err(), "{text}");
        }
        for (text, ok) in [
            (r#"{"Must":"m","List":[1]}"#, true),
            (r#"{"Must":"m","List":[],"Other":1}"#, true),
            (r#"{}"#, false),
            (r#"{"List":[]}"#, false),
            (r#"{"Must":"m"}"#, false),
            (r#"{"Must":null,"List":[]}"#, false),
            (r#"{"Must":"m","List":null}"#, false),
            (r#"["m",[2]]"#, true),
            (r#"["m"]"#, false),
        ] {
            let r = agree::<Required, serde_twin::Required>(text);
            assert_eq!(r.is_ok(), ok, "{text}: {r:?}");
        }
        for (text, ok) in [
            (r#"{}"#, true),
            (r#"{"S":"s","L":[1],"O":true}"#, true),
            (r#"{"O":null}"#, true),
            (r#"{"S":null}"#, false),
            (r#"{"L":null}"#, false),
            (r#"{"S":1}"#, false),
            (r#"["s"]"#, true),
            (r#"["s",[],null]"#, true),
            (r#"[null]"#, false),
        ] {
            let r = agree::<Defaults, serde_twin::Defaults>(text);
            assert_eq!(r.is_ok(), ok, "{text}: {r:?}");
        }
    }

    #[test]
    fn missing_and_null_are_none_or_the_default() {
        let empty = Outer::default();
        assert_eq!(from_str::<Outer>("{}").unwrap(), empty);
        let nulls = r#"{"Id":null,"Inner":null,"Items":null,"Tags":null,"Env":null}"#;
        assert_eq!(from_str::<Outer>(nulls).unwrap(), empty);
        let o: Outer = from_str(
            r#"{"Id":7,"Name":"n","On":false,"Inner":{"Key":"k"},"Tags":["a","b"],
                "Items":{"Item":[{"Count":2}]},"Env":{"B":"2","A":"1"},"Unknown":[1]}"#,
        )
        .unwrap();
        assert_eq!(
            o,
            Outer {
                id: Some(7),
                name: Some("n".into()),
                on: Some(false),
                inner: Some(Inner {
                    key: Some("k".into()),
                    count: None,
                }),
                items: Items {
                    item: vec![Inner {
                        key: None,
                        count: Some(2),
                    }],
                },
                tags: vec!["a".into(), "b".into()],
                env: [("A".into(), "1".into()), ("B".into(), "2".into())].into(),
            }
        );
        let d: Defaults = from_str(r#"{"O":false}"#).unwrap();
        assert_eq!(
            d,
            Defaults {
                s: String::new(),
                l: vec![],
                o: Some(false)
            }
        );
        // Keys are exact: another casing is another (unknown) key.
        assert_eq!(from_str::<Outer>(r#"{"id":7,"ID":8}"#).unwrap().id, None);
    }

    #[test]
    fn errors_say_where_and_what() {
        let err = |text: &str| from_str::<Outer>(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"Items":{"Item":[{},{"Count":"2"}]}}"#),
            "`Items.Item[1].Count`: expected an integer, found a string"
        );
        assert_eq!(
            err(r#"{"Tags":["a",2]}"#),
            "`Tags[1]`: expected a string, found a number"
        );
        assert_eq!(
            err(r#"{"Env":{"A":null}}"#),
            "`Env.A`: expected a string, found null"
        );
        assert_eq!(
            err(r#"{"Id":1.5}"#),
            "`Id`: expected an integer, found a number with a fraction or an exponent"
        );
        assert_eq!(
            err(r#"{"Id":9223372036854775808}"#),
            "`Id`: expected an integer, found one outside i64's range"
        );
        assert_eq!(
            err(r#"{"On":"yes"}"#),
            "`On`: expected a boolean, found a string"
        );
        assert_eq!(
            err(r#"{"Inner":"k"}"#),
            "`Inner`: expected an object (Inner), found a string"
        );
        assert_eq!(
            err("[]"),
            "missing field `Id`: Outer written as an array of 0 elements"
        );
        assert_eq!(
            err(r#"{"Inner":[null,null,null]}"#),
            "`Inner`: expected at most 2 elements for Inner, found 3"
        );
        assert_eq!(err("true"), "expected an object (Outer), found a boolean");
        let e = from_str::<Defaults>(r#"{"S":null}"#).unwrap_err();
        assert_eq!(e.to_string(), "`S`: expected a string, found null");
        let e = from_str::<Required>(r#"{"List":[]}"#).unwrap_err();
        assert_eq!((e.path(), e.message()), ("", "missing field `Must`"));
        let e = from_str::<Vec<Vec<i64>>>(r#"[[1],[2,{}]]"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`[1][1]`: expected an integer, found an object"
        );
        // Types, never values: an answer may hold secrets.
        let e = err(r#"{"Env":{"TOKEN":["s3cr3t"]}}"#);
        assert!(e.starts_with("`Env.TOKEN`: expected a string") && !e.contains("s3cr3t"));
    }

    #[test]
    fn any_value_as_it_is() {
        let v = serde_json::json!({"Code": "200", "List": [1, null]});
        assert_eq!(Value::from_json(&v).unwrap(), v);
    }
}
