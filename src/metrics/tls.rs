//! blackbox_exporter's TLS families, for an `https://` sample that completed its handshake.
//!
//! The facts come from the sample's `tls` in the report (src/certs.rs reads them on the
//! handshake), mapped so:
//!
//! | family (blackbox's name, HELP and labels) | [`TlsFacts`] field | blackbox's value |
//! |---|---|---|
//! | `probe_ssl_earliest_cert_expiry` | `earliest_cert_expiry` | the earliest `NotAfter` of the certificates the server sent, Unix seconds |
//! | `probe_ssl_last_chain_expiry_timestamp_seconds` | `last_chain_expiry` | over the verified chains, the latest of each chain's earliest `NotAfter` |
//! | `probe_ssl_last_chain_info{fingerprint_sha256,subject,issuer,subjectalternative,serialnumber}` | `leaf` | the leaf: SHA-256 of its DER (lowercase hex), subject and issuer as Go's `pkix.Name.String()` (RFC 2253, e.g. `CN=x,O=y`), DNS SANs joined by `,`, serial as lowercase hex of its bytes |
//! | `probe_tls_version_info{version}` | `version` | `TLS 1.0` … `TLS 1.3`, else `unknown` |
//! | `probe_tls_cipher_info{cipher}` | `cipher` | Go's suite name, e.g. `TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` (the IANA names rustls' `CipherSuite` debug-prints) |
//!
//! A family whose fact is missing is left out rather than written as 0: an expiry of 0 would
//! fire every "certificate expires soon" alert.

use super::Family;
use crate::report::Sample;

/// What blackbox's TLS families say about one sample's TLS session.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TlsFacts {
    /// `TLS 1.2`, `TLS 1.3` (blackbox's spelling), or `unknown`.
    pub version: Option<String>,
    /// The negotiated cipher suite's IANA name.
    pub cipher: Option<String>,
    /// The earliest `NotAfter` of the presented certificates, Unix seconds.
    pub earliest_cert_expiry: Option<f64>,
    /// The latest of the verified chains' earliest `NotAfter`, Unix seconds.
    pub last_chain_expiry: Option<f64>,
    /// The leaf certificate's identity.
    pub leaf: Option<LeafInfo>,
}

/// `probe_ssl_last_chain_info`'s labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeafInfo {
    /// SHA-256 of the DER certificate, lowercase hex.
    pub fingerprint_sha256: String,
    /// Subject, RFC 2253.
    pub subject: String,
    /// Issuer, RFC 2253.
    pub issuer: String,
    /// The DNS subject alternative names joined by `,`.
    pub subjectalternative: String,
    /// The serial number's bytes, lowercase hex.
    pub serialnumber: String,
}

/// The TLS facts of `sample`, from its report's `tls` (absent for `http://` and for a failed
/// handshake).
pub(crate) fn facts(sample: &Sample) -> Option<TlsFacts> {
    let tls = sample.tls.as_ref()?;
    let expiry = tls.earliest_expiry_unix.map(|t| t as f64);
    Some(TlsFacts {
        version: Some(tls.version.clone()),
        cipher: Some(tls.cipher_suite.clone()),
        earliest_cert_expiry: expiry,
        // rustls verifies one chain, the one the server presented: its earliest expiry is the
        // last verified chain's.
        last_chain_expiry: expiry,
        leaf: tls.certificate.as_ref().map(|c| LeafInfo {
            fingerprint_sha256: c.sha256.clone(),
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            // blackbox lists the DNS names only; the report has IP addresses too.
            subjectalternative: c
                .sans
                .iter()
                .filter(|n| n.parse::<std::net::IpAddr>().is_err())
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            serialnumber: c.serial.clone(),
        }),
    })
}

/// blackbox's TLS families for `facts` (each only when its fact is known).
pub(crate) fn families(facts: &TlsFacts) -> Vec<Family> {
    let mut out = Vec::new();
    if let Some(t) = facts.earliest_cert_expiry {
        out.push(
            Family::gauge(
                "probe_ssl_earliest_cert_expiry",
                "Returns last SSL chain expiry in unixtime",
            )
            .with(Vec::new(), t),
        );
    }
    if let Some(t) = facts.last_chain_expiry {
        out.push(
            Family::gauge(
                "probe_ssl_last_chain_expiry_timestamp_seconds",
                "Returns last SSL chain expiry in timestamp",
            )
            .with(Vec::new(), t),
        );
    }
    if let Some(leaf) = &facts.leaf {
        out.push(
            Family::gauge(
                "probe_ssl_last_chain_info",
                "Contains SSL leaf certificate information",
            )
            .with(
                vec![
                    ("fingerprint_sha256", leaf.fingerprint_sha256.clone()),
                    ("subject", leaf.subject.clone()),
                    ("issuer", leaf.issuer.clone()),
                    ("subjectalternative", leaf.subjectalternative.clone()),
                    ("serialnumber", leaf.serialnumber.clone()),
                ],
                1.0,
            ),
        );
    }
    if let Some(v) = &facts.version {
        out.push(
            Family::gauge(
                "probe_tls_version_info",
                "Returns the TLS version used or NaN when unknown",
            )
            .with(vec![("version", v.clone())], 1.0),
        );
    }
    if let Some(c) = &facts.cipher {
        out.push(
            Family::gauge(
                "probe_tls_cipher_info",
                "Returns the TLS cipher negotiated during handshake",
            )
            .with(vec![("cipher", c.clone())], 1.0),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_the_samples_tls() {
        use crate::report::{CertInfo, TlsInfo};
        assert_eq!(facts(&Sample::default()), None, "no TLS: no facts");
        let sample = Sample {
            tls: Some(TlsInfo {
                version: "TLS 1.2".into(),
                cipher_suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                alpn: None,
                certificate: Some(CertInfo {
                    subject: "CN=api.example.com".into(),
                    issuer: "CN=Test CA".into(),
                    sans: vec!["api.example.com".into(), "10.0.0.1".into()],
                    serial: "0a1b".into(),
                    sha256: "ff00".into(),
                    not_after_unix: 1_900_000_000,
                    ..CertInfo::default()
                }),
                chain_length: 2,
                earliest_expiry: None,
                earliest_expiry_unix: Some(1_800_000_000),
            }),
            ..Sample::default()
        };
        let f = facts(&sample).unwrap();
        assert_eq!(f.version.as_deref(), Some("TLS 1.2"));
        assert_eq!(f.earliest_cert_expiry, Some(1.8e9));
        let leaf = f.leaf.unwrap();
        assert_eq!(leaf.subjectalternative, "api.example.com", "DNS names only");
        assert_eq!(
            (leaf.fingerprint_sha256.as_str(), leaf.serialnumber.as_str()),
            ("ff00", "0a1b")
        );
    }

    #[test]
    fn each_family_needs_its_fact() {
        assert!(families(&TlsFacts::default()).is_empty());
        let all = TlsFacts {
            version: Some("TLS 1.3".into()),
            cipher: Some("TLS_AES_128_GCM_SHA256".into()),
            earliest_cert_expiry: Some(1.9e9),
            last_chain_expiry: Some(1.8e9),
            leaf: Some(LeafInfo {
                fingerprint_sha256: "ab".into(),
                subject: "CN=x".into(),
                issuer: "CN=ca".into(),
                subjectalternative: "x,y".into(),
                serialnumber: "01".into(),
            }),
        };
        let names: Vec<&str> = families(&all).iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "probe_ssl_earliest_cert_expiry",
                "probe_ssl_last_chain_expiry_timestamp_seconds",
                "probe_ssl_last_chain_info",
                "probe_tls_version_info",
                "probe_tls_cipher_info"
            ]
        );
        assert!(facts(&Sample::default()).is_none());
    }
}
