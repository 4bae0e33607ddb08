//! The TLS facts of a sample: version, cipher suite, ALPN, and what the certificates the server
//! presented say about themselves (subject, SANs, issuer, validity, fingerprint).
//!
//! Taken in two steps so that none of the work counts towards a phase: right after the
//! handshake only what rustls already holds is copied ([`Seen`]: a few kilobytes of DER); the
//! certificates are parsed ([`Seen::facts`]) once the sample's clock has stopped, and a
//! certificate already parsed is taken from a small cache (the handshake itself always verifies
//! the whole chain).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::Name;

use crate::openapi::sign::hex;
use crate::report::{CertInfo, TlsInfo};

/// The longest text taken from a certificate (subject, issuer, one SAN): the server's to write.
const MAX_TEXT_CHARS: usize = 256;

/// The most SANs listed (a certificate may carry hundreds).
const MAX_SANS: usize = 64;

/// The most certificates of a chain looked at.
const MAX_CHAIN: usize = 8;

/// The most certificates whose facts are kept, by SHA-256 of their DER. A probe on a timer meets
/// the same chain every time, and parsing it was the largest part of an https probe's CPU outside
/// the handshake (about 3 %, bench/NOTES.md). What a certificate says never changes; only
/// `days_left` is counted again for each sample. 16 entries of at most `MAX_SANS` texts of
/// `MAX_TEXT_CHARS` each: bounded whatever the servers send.
const CACHED_CERTS: usize = 16;

/// The certificates already read, oldest first.
static READ: Mutex<Vec<([u8; 32], Arc<CertInfo>)>> = Mutex::new(Vec::new());

/// What the handshake left, copied out of the connection.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::CipherSuite>,
    alpn: Option<Vec<u8>>,
    chain: Vec<CertificateDer<'static>>,
}

impl Seen {
    /// Copies the session's facts from a connection whose handshake completed.
    pub(crate) fn of(conn: &rustls::ClientConnection) -> Self {
        Self {
            version: conn.protocol_version(),
            suite: conn.negotiated_cipher_suite().map(|s| s.suite()),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            chain: conn
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .take(MAX_CHAIN)
                .map(|c| c.clone().into_owned())
                .collect(),
        }
    }

    /// The report's facts, with days left counted from `now`. A certificate that cannot be
    /// parsed is left out (the handshake's verification accepted it; this reader is stricter
    /// about some encodings).
    pub(crate) fn facts(&self, now: SystemTime) -> TlsInfo {
        let parsed: Vec<Option<CertInfo>> =
            self.chain.iter().map(|der| cert_info(der, now)).collect();
        let earliest = parsed
            .iter()
            .flatten()
            .min_by_key(|c| c.not_after_unix)
            .map(|c| (c.not_after.clone(), c.not_after_unix));
        TlsInfo {
            version: match self.version {
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".into(),
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".into(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
            // rustls names TLS 1.3's suites TLS13_…; IANA's names are TLS_….
            cipher_suite: self
                .suite
                .map(|s| format!("{s:?}").replacen("TLS13_", "TLS_", 1))
                .unwrap_or_default(),
            alpn: self
                .alpn
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).chars().take(64).collect()),
            certificate: parsed.into_iter().next().flatten(),
            chain_length: self.chain.len() as u32,
            earliest_expiry: earliest.as_ref().map(|(text, _)| text.clone()),
            earliest_expiry_unix: earliest.map(|(_, unix)| unix),
        }
    }
}

/// What one DER certificate says; `None` when it cannot be parsed.
fn cert_info(der: &[u8], now: SystemTime) -> Option<CertInfo> {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let key: [u8; 32] = digest.as_ref().try_into().ok()?;
    // A poisoned lock only costs the cache: the certificate is parsed again.
    let cached = READ
        .lock()
        .ok()
        .and_then(|read| read.iter().find(|(k, _)| *k == key).map(|(_, c)| c.clone()));
    let info = match cached {
        Some(info) => info,
        None => {
            let (info, whole) = parse(der, &key)?;
            let info = Arc::new(info);
            // A text that was cut was redacted with this request's secrets first (`text`);
            // another request has other secrets, so such a certificate is read anew each time.
            if whole {
                if let Ok(mut read) = READ.lock() {
                    if read.len() >= CACHED_CERTS {
                        read.remove(0);
                    }
                    read.push((key, info.clone()));
                }
            }
            info
        }
    };
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    Some(CertInfo {
        days_left: (info.not_after_unix - now.as_secs() as i64).div_euclid(86_400),
        ..CertInfo::clone(&info)
    })
}

/// Reads `der` (whose SHA-256 is `sha256`); `days_left` is left at 0 for the caller. The flag
/// is false when a text had to be cut.
fn parse(der: &[u8], sha256: &[u8]) -> Option<(CertInfo, bool)> {
    let whole = std::cell::Cell::new(true);
    let bounded = |s: &str| {
        if s.chars().nth(MAX_TEXT_CHARS).is_some() {
            whole.set(false);
        }
        text(s)
    };
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let not_before = validity.not_before.to_unix_duration();
    let not_after = validity.not_after.to_unix_duration();
    let sans = match tbs.get_extension::<SubjectAltName>() {
        Ok(Some((_, SubjectAltName(names)))) => names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(name) => Some(bounded(name.as_str())),
                GeneralName::IpAddress(ip) => ip_text(ip.as_bytes()),
                _ => None,
            })
            .take(MAX_SANS)
            .collect(),
        _ => Vec::new(),
    };
    let serial = tbs.serial_number().as_bytes();
    let serial = hex(&serial[serial.iter().take_while(|b| **b == 0).count()..]);
    let info = CertInfo {
        subject: bounded(&distinguished_name(tbs.subject())),
        issuer: bounded(&distinguished_name(tbs.issuer())),
        sans,
        serial: if serial.is_empty() {
            "0".into()
        } else {
            serial
        },
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        not_after_unix: not_after.as_secs() as i64,
        days_left: 0,
        sha256: hex(sha256),
    };
    Some((info, whole.get()))
}

/// A text from the certificate: the server's to write, so bounded, and redacted before the cut
/// (as gateway headers are) so that the cut cannot keep half a secret.
fn text(s: &str) -> String {
    if s.chars().nth(MAX_TEXT_CHARS).is_none() {
        return s.to_owned();
    }
    let redactor = crate::redact::current();
    let cut: String = redactor.redact(s).chars().take(MAX_TEXT_CHARS).collect();
    redactor.redact_cut(&cut)
}

/// A distinguished name as RFC 4514 writes it: the last RDN first, the attributes' short names
/// (CN, O, OU, C, ST, L, …) and dotted OIDs for the others. Written here rather than with
/// x509-cert's `Display`, which names every attribute through const-oid's database of all
/// known OIDs: about 130 KB of the binary for the few names certificates use.
fn distinguished_name(name: &Name) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| rdn.iter().map(attribute).collect::<Vec<_>>().join("+"))
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// `TYPE=value` of one attribute, escaped as RFC 4514 says; a value that is not a string is
/// `#` and its DER in hex.
fn attribute(a: &AttributeTypeAndValue) -> String {
    let oid = a.oid.to_string();
    let key = match oid.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "EMAILADDRESS",
        other => other,
    };
    let bytes = a.value.value();
    let value = match a.value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::TeletexString
        | Tag::VisibleString => String::from_utf8_lossy(bytes).into_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => {
            let der = a.value.to_der().unwrap_or_default();
            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
            return format!("{key}=#{hex}");
        }
    };
    let mut out = format!("{key}=");
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\{:02x}", c as u32 & 0xff)),
            c => out.push(c),
        }
    }
    out
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

fn rfc3339(since_epoch: Duration) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + since_epoch).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    #[test]
    fn reads_subject_sans_issuer_validity_and_fingerprint() {
        let mut params = CertificateParams::new(vec!["api.example.com".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("10.0.0.5".parse().unwrap()));
        params
            .distinguished_name
            .push(DnType::CommonName, "api.example.com");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example");
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2026, 3, 1);
        params.serial_number = Some(vec![0x00, 0x1a, 0x2b].into());
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();

        // 2026-02-20T00:00:00Z: 9 days before not_after.
        let now = UNIX_EPOCH + Duration::from_secs(1_771_545_600);
        let info = cert_info(&der, now).unwrap();
        assert_eq!(info.subject, "O=Example,CN=api.example.com", "{info:?}");
        assert_eq!(info.issuer, info.subject, "self-signed");
        assert_eq!(info.sans, ["api.example.com", "10.0.0.5"]);
        assert_eq!(info.serial, "1a2b");
        assert_eq!(info.not_before, "2026-01-01T00:00:00Z");
        assert_eq!(info.not_after, "2026-03-01T00:00:00Z");
        assert_eq!(info.not_after_unix, 1_772_323_200);
        assert_eq!(info.days_left, 9);
        let expected: String = ring::digest::digest(&ring::digest::SHA256, &der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(info.sha256, expected);
        assert_eq!(info.sha256.len(), 64);
        // After not_after: negative.
        let later = UNIX_EPOCH + Duration::from_secs(1_772_323_200 + 86_400 + 1);
        assert_eq!(cert_info(&der, later).unwrap().days_left, -2);

        assert!(cert_info(b"not a certificate", now).is_none());
    }

    fn cached(der: &[u8]) -> bool {
        let key = ring::digest::digest(&ring::digest::SHA256, der);
        let read = READ.lock().unwrap();
        read.iter().any(|(k, _)| k[..] == *key.as_ref())
    }

    #[test]
    fn a_certificate_read_once_is_kept_and_its_days_counted_again() {
        let make = |cn: &str| {
            let mut p = CertificateParams::new(vec!["x.example".to_owned()]).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.not_after = rcgen::date_time_ymd(2026, 3, 1);
            p.self_signed(&KeyPair::generate().unwrap())
                .unwrap()
                .der()
                .to_vec()
        };
        let der = make("kept.example");
        let now = UNIX_EPOCH + Duration::from_secs(1_771_545_600);
        let first = cert_info(&der, now).unwrap();
        assert!(cached(&der));
        let later = UNIX_EPOCH + Duration::from_secs(1_771_545_600 + 5 * 86_400);
        let again = cert_info(&der, later).unwrap();
        assert_eq!((first.days_left, again.days_left), (9, 4));
        assert_eq!(
            CertInfo {
                days_left: 9,
                ..again
            },
            first
        );

        // A text cut to 256 characters was redacted with one request's secrets: not kept.
        let long = make(&"a".repeat(300));
        assert_eq!(cert_info(&long, now).unwrap().subject.chars().count(), 256);
        assert!(!cached(&long));

        // Bounded, the oldest dropped first.
        let many: Vec<Vec<u8>> = (0..CACHED_CERTS + 1)
            .map(|i| make(&format!("n{i}.example")))
            .collect();
        for der in &many {
            cert_info(der, now).unwrap();
        }
        assert!(READ.lock().unwrap().len() <= CACHED_CERTS);
        assert!(cached(&many[CACHED_CERTS]));
        assert!(!cached(&der), "the oldest is dropped");
    }

    #[test]
    fn names_are_written_as_rfc_4514_says() {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CountryName, "CN");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Acme, Inc.");
        params
            .distinguished_name
            .push(DnType::CustomDnType(vec![2, 5, 4, 97]), "x+y");
        params.distinguished_name.push(DnType::CommonName, " #api ");
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        let info = cert_info(cert.der(), SystemTime::now()).unwrap();
        // rcgen encodes CN first; RFC 4514 writes the last RDN first.
        assert_eq!(
            info.subject, r"2.5.4.97=x\+y,O=Acme\, Inc.,C=CN,CN=\ #api\ ",
            "{info:?}"
        );
    }

    #[test]
    fn the_earliest_expiry_of_the_chain() {
        let make = |y, m| {
            let mut p = CertificateParams::new(vec!["x.example".to_owned()]).unwrap();
            p.not_after = rcgen::date_time_ymd(y, m, 1);
            p.self_signed(&KeyPair::generate().unwrap())
                .unwrap()
                .der()
                .clone()
        };
        let seen = Seen {
            version: Some(rustls::ProtocolVersion::TLSv1_3),
            suite: Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
            alpn: Some(b"http/1.1".to_vec()),
            chain: vec![
                make(2030, 5),
                make(2029, 7),
                CertificateDer::from(vec![1, 2, 3]),
            ],
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_771_545_600);
        let f = seen.facts(now);
        assert_eq!(f.version, "TLS 1.3");
        assert_eq!(f.cipher_suite, "TLS_AES_128_GCM_SHA256");
        assert_eq!(f.alpn.as_deref(), Some("http/1.1"));
        assert_eq!(f.chain_length, 3);
        assert_eq!(f.certificate.unwrap().not_after, "2030-05-01T00:00:00Z");
        assert_eq!(f.earliest_expiry.as_deref(), Some("2029-07-01T00:00:00Z"));
        assert_eq!(f.earliest_expiry_unix, Some(1_877_558_400));
    }
}
