//! The credentials OpenAPI calls are signed with.
//!
//! In FC: the function role's STS credentials, per invocation from FC's
//! `x-fc-access-key-id` / `x-fc-access-key-secret` / `x-fc-security-token` headers, else from
//! the instance's `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` /
//! `ALIBABA_CLOUD_SECURITY_TOKEN` (spec control-plane.md §4.2 \[doc\]). FC fills them only when
//! the function has a `role`, and `disableInjectCredentials` can switch either channel off.
//!
//! On the command line also the Alibaba Cloud CLI's profile file, `~/.aliyun/config.json`
//! (its `current` profile or a named one), in the modes that hold the keys themselves: `AK`
//! and `StsToken`. The other modes (`RamRoleArn`, `EcsRamRole`, `CloudSSO`, …) need a token
//! exchange this tool does not do; they are refused with an error naming the mode.
//!
//! The secret and the token are secrets: held in [`Secret`] (redacted `Debug`, no `Display`),
//! [`Credentials`] has no `Serialize`, and the output redaction (`src/redact.rs`) learns them:
//! the runtime adds the role's credentials per request (`runtime/handler.rs`), the `probe`
//! command the shell's (`cli.rs`), [`Credentials::register`] adds them to a given
//! [`Redactor`], and a [`crate::openapi::Client`] built inside a redaction scope adds its own to
//! that scope (so a command that loads a CLI profile and builds a client in its scope cannot
//! print them).

use std::fmt;
use std::path::{Path, PathBuf};

use hyper::header::HeaderMap;

use super::json::{json_model, FromJson};
use crate::redact::Redactor;
use crate::secret::Secret;

/// An AccessKey pair, with the STS token when the pair is temporary.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: Secret,
    security_token: Option<Secret>,
}

impl Credentials {
    /// Credentials when both the id and the secret are present and not empty; an empty token
    /// counts as none.
    pub fn new(
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
    ) -> Option<Self> {
        let access_key_id = access_key_id.filter(|id| !id.trim().is_empty())?;
        Some(Self {
            access_key_id: access_key_id.trim().to_owned(),
            access_key_secret: Secret::new(access_key_secret?.trim())?,
            security_token: security_token.and_then(|t| Secret::new(t.trim())),
        })
    }

    /// FC's per-invocation role credentials: `x-fc-access-key-id`, `x-fc-access-key-secret`
    /// and `x-fc-security-token` (\[doc\] FC context pages). FC strips `x-fc-*` headers sent by
    /// outside callers, so these are FC's own.
    pub fn from_fc_headers(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self::new(
            get("x-fc-access-key-id"),
            get("x-fc-access-key-secret"),
            get("x-fc-security-token"),
        )
    }

    /// The instance's `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
    /// `ALIBABA_CLOUD_SECURITY_TOKEN`, read through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Self::new(
            get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
            get("ALIBABA_CLOUD_SECURITY_TOKEN"),
        )
    }

    /// The AccessKeyId (not a secret: it names the key, and appears in `Authorization`).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret, for signing (and registering with the redaction) only.
    pub fn access_key_secret(&self) -> &str {
        self.access_key_secret.expose()
    }

    /// The STS token, for the `x-acs-security-token` header (and the redaction) only.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_ref().map(Secret::expose)
    }

    /// True for temporary (STS) credentials: they come with a token.
    pub fn is_sts(&self) -> bool {
        self.security_token.is_some()
    }

    /// The values that must never appear in any output (the secret and the token), for the
    /// output redaction.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.access_key_secret()).chain(self.security_token())
    }

    /// Adds the secret and the token to `redactor`.
    pub fn register(&self, redactor: &Redactor) {
        for value in self.secret_values() {
            redactor.add(value);
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A profile read from the Alibaba Cloud CLI's configuration file.
#[derive(Clone, Debug)]
pub struct CliProfile {
    /// The profile's `name`.
    pub name: String,
    /// Its `region_id`, if set: the default region of the command line.
    pub region: Option<String>,
    /// Its keys.
    pub credentials: Credentials,
}

/// Why a CLI profile could not be used. The message names the file and the profile, never a
/// value from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsError {
    /// What went wrong, in a sentence that says what to change.
    pub message: String,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialsError {}

json_model! {
    /// The file's shape, as the CLI writes it (aliyun/aliyun-cli `config/configuration.go`,
    /// `config/profile.go`): `{"current": "...", "profiles": [{"name", "mode", "access_key_id",
    /// "access_key_secret", "sts_token", "region_id", …}]}`. Other fields are ignored.
    struct CliConfigFile {
        #[json("current", default)]
        current: String,
        #[json("profiles", default)]
        profiles: Vec<CliProfileEntry>,
    }
}

json_model! {
    struct CliProfileEntry {
        #[json("name", default)]
        name: String,
        #[json("mode", default)]
        mode: String,
        #[json("access_key_id", default)]
        access_key_id: Option<String>,
        #[json("access_key_secret", default)]
        access_key_secret: Option<String>,
        #[json("sts_token", default)]
        sts_token: Option<String>,
        #[json("region_id", default)]
        region_id: Option<String>,
    }
}

impl CliProfile {
    /// `$HOME/.aliyun/config.json`, where the CLI keeps its profiles; `None` without `HOME`.
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".aliyun").join("config.json"))
    }

    /// Reads the profile `name` (else the file's `current` one, else `default`) from `path`.
    pub fn load(path: &Path, name: Option<&str>) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|e| CredentialsError {
            message: format!(
                "the Alibaba Cloud CLI configuration {} cannot be read: {e}; run `aliyun configure` or pass the ALIBABA_CLOUD_* variables",
                path.display()
            ),
        })?;
        Self::parse(&text, name).map_err(|message| CredentialsError {
            message: format!("{}: {message}", path.display()),
        })
    }

    /// Parses the file's text (see [`CliProfile::load`]).
    pub fn parse(text: &str, name: Option<&str>) -> Result<Self, String> {
        // serde_json's syntax errors give a line and column, the shape's errors a path and JSON
        // types (`profiles[0].mode`: expected a string, found null): never the file's content.
        // A key written twice counts once, its last value (serde's derive refused the file).
        let not_it = |e: &dyn fmt::Display| format!("not the CLI's JSON configuration ({e})");
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| not_it(&e))?;
        let file = CliConfigFile::from_json(&json).map_err(|e| not_it(&e))?;
        let wanted = name
            .filter(|n| !n.is_empty())
            .or(Some(file.current.as_str()).filter(|c| !c.is_empty()))
            .unwrap_or("default");
        let Some(entry) = file.profiles.into_iter().find(|p| p.name == wanted) else {
            return Err(format!(
                "no profile named {wanted:?}; run `aliyun configure --profile {wanted}` or name another"
            ));
        };
        // The CLI compares modes without regard to case (NormalizeMode).
        let sts = if entry.mode.eq_ignore_ascii_case("AK") {
            false
        } else if entry.mode.eq_ignore_ascii_case("StsToken") {
            true
        } else {
            let mode = if entry.mode.is_empty() {
                "(none)"
            } else {
                entry.mode.as_str()
            };
            return Err(format!(
                "profile {wanted:?} uses mode {mode}, which this tool cannot use: only AK and StsToken profiles hold the keys themselves; configure one (`aliyun configure --profile <name> --mode AK`) or pass the ALIBABA_CLOUD_* variables"
            ));
        };
        let token = if sts {
            let token = entry.sts_token.filter(|t| !t.trim().is_empty());
            if token.is_none() {
                return Err(format!(
                    "profile {wanted:?} (mode StsToken) has no sts_token"
                ));
            }
            token
        } else {
            None
        };
        let credentials = Credentials::new(entry.access_key_id, entry.access_key_secret, token)
            .ok_or_else(|| {
                format!("profile {wanted:?} lacks access_key_id or access_key_secret")
            })?;
        Ok(Self {
            name: entry.name,
            region: entry.region_id.filter(|r| !r.trim().is_empty()),
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn debug_redacts_the_secret_and_the_token() {
        let c = Credentials::new(
            Some("STS.id".into()),
            Some("s3cr3t-value".into()),
            Some("t0k3n-value".into()),
        )
        .unwrap();
        let text = format!("{c:?}");
        assert!(text.contains("STS.id"), "{text}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("t0k3n"),
            "{text}"
        );
        assert_eq!(
            c.secret_values().collect::<Vec<_>>(),
            ["s3cr3t-value", "t0k3n-value"]
        );
        assert!(c.is_sts());
    }

    #[test]
    fn register_teaches_the_redactor() {
        let c = Credentials::new(
            Some("STS.id".into()),
            Some("s3cr3t-value".into()),
            Some("t0k3n-value/with+chars=".into()),
        )
        .unwrap();
        let r = Redactor::default();
        c.register(&r);
        assert_eq!(
            r.redact("x s3cr3t-value y t0k3n-value%2Fwith%2Bchars%3D z"),
            "x *** y *** z"
        );
    }

    #[test]
    fn empty_parts_do_not_make_credentials() {
        assert!(Credentials::new(Some("id".into()), Some("".into()), None).is_none());
        assert!(Credentials::new(Some(" ".into()), Some("s".into()), None).is_none());
        let c = Credentials::new(Some("id".into()), Some("s".into()), Some("".into())).unwrap();
        assert_eq!(c.security_token(), None);
    }

    #[test]
    fn fc_headers_and_environment() {
        let mut h = HeaderMap::new();
        h.insert("x-fc-access-key-id", HeaderValue::from_static("STS.hdr"));
        h.insert(
            "x-fc-access-key-secret",
            HeaderValue::from_static("hdrsecret"),
        );
        h.insert("x-fc-security-token", HeaderValue::from_static("hdrtoken"));
        let c = Credentials::from_fc_headers(&h).unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret(), c.security_token()),
            ("STS.hdr", "hdrsecret", Some("hdrtoken"))
        );
        h.remove("x-fc-access-key-secret");
        assert!(Credentials::from_fc_headers(&h).is_none());

        let c = Credentials::from_lookup(|k| match k {
            "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAIenv".into()),
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("envsecret".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.access_key_id(), "LTAIenv");
        assert!(!c.is_sts());
    }

    const FILE: &str = r#"{
        "current": "sts",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "LTAIak", "access_key_secret": "aksecret", "region_id": "cn-hangzhou", "output_format": "json"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "stssecret", "sts_token": "ststoken", "region_id": "cn-shanghai"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIr", "access_key_secret": "rsecret", "ram_role_arn": "acs:ram::1:role/r"},
            {"name": "half", "mode": "ak", "access_key_id": "LTAIh"},
            {"name": "notoken", "mode": "StsToken", "access_key_id": "STS.y", "access_key_secret": "s"}
        ],
        "meta_path": ""
    }"#;

    #[test]
    fn cli_profiles_current_or_named() {
        let p = CliProfile::parse(FILE, None).unwrap();
        assert_eq!(p.name, "sts");
        assert_eq!(p.region.as_deref(), Some("cn-shanghai"));
        assert_eq!(p.credentials.security_token(), Some("ststoken"));
        let p = CliProfile::parse(FILE, Some("default")).unwrap();
        assert_eq!(p.credentials.access_key_secret(), "aksecret");
        assert_eq!(p.credentials.security_token(), None);
    }

    #[test]
    fn cli_profile_errors_name_the_problem_not_the_values() {
        let e = CliProfile::parse(FILE, Some("role")).unwrap_err();
        assert!(e.contains("mode RamRoleArn"), "{e}");
        assert!(!e.contains("rsecret"), "{e}");
        let e = CliProfile::parse(FILE, Some("half")).unwrap_err();
        assert!(
            e.contains("lacks access_key_id or access_key_secret"),
            "{e}"
        );
        let e = CliProfile::parse(FILE, Some("notoken")).unwrap_err();
        assert!(e.contains("no sts_token"), "{e}");
        let e = CliProfile::parse(FILE, Some("nope")).unwrap_err();
        assert!(e.contains("no profile named \"nope\""), "{e}");
        let e =
            CliProfile::parse("{\"profiles\": [{\"access_key_secret\": \"zzz", None).unwrap_err();
        assert!(!e.contains("zzz"), "{e}");
        // The file's types as serde read them: `null` is not a name; the error says where,
        // never a value.
        let e = CliProfile::parse(r#"{"current":null,"profiles":[]}"#, None).unwrap_err();
        assert_eq!(
            e,
            "not the CLI's JSON configuration (`current`: expected a string, found null)"
        );
        let e = CliProfile::parse(r#"{"profiles":[{"name":"default","mode":["zzz"]}]}"#, None)
            .unwrap_err();
        assert!(e.contains("`profiles[0].mode`: expected a string") && !e.contains("zzz"));
        // No `current`: the profile named default.
        let p = CliProfile::parse(
            r#"{"profiles":[{"name":"default","mode":"AK","access_key_id":"a","access_key_secret":"b"}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(p.name, "default");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let e = CliProfile::load(&path, None).unwrap_err();
        assert!(e.message.contains("config.json cannot be read"), "{e}");
        std::fs::write(&path, FILE).unwrap();
        let p = CliProfile::load(&path, Some("default")).unwrap();
        assert_eq!(p.credentials.access_key_id(), "LTAIak");
    }
}
