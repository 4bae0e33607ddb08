//! Spec fields with a fixed set of values (a stage, an authentication, a signature method, an
//! HTTP method): one way to name, parse and refuse them, shared by the event parser, the
//! HTTP trigger's query and the command line.

use std::fmt;

use crate::error::ProbeError;

/// A value that is none of a field's accepted names: the one refusal for every such field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    /// The field, as the user writes it (`stage`, `auth`, …).
    pub field: &'static str,
    /// What was given (cut to 64 characters: it is the caller's input).
    pub value: String,
    /// The accepted names.
    pub accepted: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} is not one of {}",
            self.field,
            self.value,
            self.accepted.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

impl From<UnknownValue> for ProbeError {
    fn from(e: UnknownValue) -> Self {
        ProbeError::config(e.to_string())
    }
}

/// Declares a field's enum: its names (matched without regard to case, written as given), and
/// `FromStr`, `Display` and serde through them (the command line parses with `FromStr`).
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order of [`Self::NAMES`].
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The names, as written in events, queries, flags and on the wire.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value's name.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::named::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let given = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name().eq_ignore_ascii_case(given))
                    .ok_or_else(|| $crate::named::UnknownValue {
                        field: $field,
                        value: given.chars().take(64).collect(),
                        accepted: Self::NAMES,
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    // The macro makes its items `pub` for real fields; this one's are the test's only.
    #![allow(unreachable_pub)]

    named_enum! {
        /// A test field.
        enum Colour as "colour" {
            /// Red.
            Red = "RED",
            /// Green.
            Green = "green",
        }
    }

    #[test]
    fn names_parse_in_any_case_and_refusals_list_the_names() {
        assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
        assert_eq!(" GREEN ".parse::<Colour>(), Ok(Colour::Green));
        assert_eq!(Colour::Green.to_string(), "green");
        let e = "blue".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "colour \"blue\" is not one of RED, green");
        let p: crate::error::ProbeError = e.into();
        assert_eq!(p.class, crate::error::ErrorClass::ConfigInvalid);
        let v: Colour = serde_json::from_str("\"Red\"").unwrap();
        assert_eq!(v, Colour::Red);
        let e = serde_json::from_str::<Colour>("\"x\"").unwrap_err();
        assert!(e.to_string().contains("colour \"x\" is not one of"), "{e}");
        assert_eq!(serde_json::to_string(&Colour::Red).unwrap(), "\"RED\"");
    }
}
