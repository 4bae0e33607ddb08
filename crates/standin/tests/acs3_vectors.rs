//! The control plane's own signature verifier against every vector of control-plane.md §1.9
//! (`fixtures/acs3-vectors.json`): the canonical request, its hash and the signature are
//! recomputed, the vector's request is accepted as received on the wire, and the same request
//! with a wrong secret, replayed, or too old is refused with the documented code.

use std::time::Duration;

use apigw_standin::control_plane::verify::{
    self, canonical_for, canonical_query, canonical_request, hex_sha256, percent_encode,
    string_to_sign, v2_signature, v2_string_to_sign, v3_signature, Incoming, KeyInfo, Nonces,
};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("fixtures/acs3-vectors.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
        .collect()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} is a string"))
}

/// The vector's request as a client puts it on the wire.
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Wire {
    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn wire(v: &Value) -> Wire {
    let mut headers = HeaderMap::new();
    for (k, val) in pairs(&v["headers"]) {
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&val).unwrap(),
        );
    }
    headers.insert(
        "x-acs-content-sha256",
        HeaderValue::from_str(s(v, "x_acs_content_sha256")).unwrap(),
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(s(v, "authorization")).unwrap(),
    );
    let query = pairs(&v["query"])
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Wire {
        method: s(v, "method").to_owned(),
        path: s(v, "uri").to_owned(),
        query,
        headers,
        body: s(v, "body").as_bytes().to_vec(),
    }
}

fn key(v: &Value, secret: &str) -> KeyInfo {
    KeyInfo {
        secret: secret.to_owned(),
        security_token: v["headers"]["x-acs-security-token"]
            .as_str()
            .map(str::to_owned),
        expiration: None,
        disabled: false,
    }
}

#[test]
fn every_v3_vector_is_recomputed_and_accepted() {
    let all = vectors();
    let v3 = all["v3"].as_array().unwrap();
    assert_eq!(v3.len(), 8, "the spec's §1.9 has 8 V3 vectors");
    for v in v3 {
        let id = s(v, "id");
        let w = wire(v);
        assert_eq!(
            hex_sha256(&w.body),
            s(v, "x_acs_content_sha256"),
            "{id}: body hash"
        );
        let signed: Vec<String> = s(v, "authorization")
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap()
            .split(';')
            .map(str::to_owned)
            .collect();
        let canonical = canonical_for(&w.incoming(), &signed);
        assert_eq!(
            canonical,
            s(v, "canonical_request"),
            "{id}: canonical request"
        );
        let sts = string_to_sign(&canonical);
        assert_eq!(
            sts,
            format!("ACS3-HMAC-SHA256\n{}", s(v, "hashed_canonical_request")),
            "{id}: string to sign"
        );
        assert_eq!(
            v3_signature(s(v, "access_key_secret"), &sts),
            s(v, "signature"),
            "{id}: signature"
        );

        let now = verify::parse_date(s(&v["headers"], "x-acs-date")).unwrap();
        let ak = s(v, "access_key_id");
        let good = key(v, s(v, "access_key_secret"));
        let lookup = |want: &str| (want == ak).then(|| good.clone());
        let nonces = Nonces::default();
        let ok = verify::verify_v3(&w.incoming(), now, lookup, &nonces)
            .unwrap_or_else(|e| panic!("{id}: refused: {e:?}"));
        assert_eq!(ok.access_key_id, ak);

        // The same request again: a replayed nonce.
        let replay = verify::verify_v3(&w.incoming(), now, lookup, &nonces).unwrap_err();
        assert_eq!(replay.code, "SignatureNonceUsed", "{id}");

        // Signed with another secret: refused, echoing the server's canonical request.
        let wrong = key(v, "not-the-secret");
        let err = verify::verify_v3(
            &w.incoming(),
            now,
            |_| Some(wrong.clone()),
            &Nonces::default(),
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "SignatureDoesNotMatch"),
            "{id}"
        );
        assert!(
            err.message
                .ends_with(&format!("server string to sign is:{canonical}")),
            "{id}: {}",
            err.message
        );

        // 16 minutes later the date is outside the window; 14 minutes is inside.
        let late = verify::verify_v3(
            &w.incoming(),
            now + Duration::from_secs(16 * 60),
            lookup,
            &Nonces::default(),
        )
        .unwrap_err();
        assert_eq!(late.code, "InvalidTimeStamp.Expired", "{id}");
        assert!(verify::verify_v3(
            &w.incoming(),
            now - Duration::from_secs(14 * 60),
            lookup,
            &Nonces::default()
        )
        .is_ok());

        // An unknown AccessKey.
        let unknown =
            verify::verify_v3(&w.incoming(), now, |_| None, &Nonces::default()).unwrap_err();
        assert_eq!(
            (unknown.status, unknown.code.as_str()),
            (404, "InvalidAccessKeyId.NotFound")
        );
    }
}

#[test]
fn the_sts_vector_needs_its_token_signed_matching_and_unexpired() {
    let all = vectors();
    let v = all["v3"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| s(v, "id") == "v3-cloudapi-DescribeApiGroup-sts")
        .unwrap();
    let now = verify::parse_date(s(&v["headers"], "x-acs-date")).unwrap();
    let good = key(v, s(v, "access_key_secret"));
    let check = |w: &Wire, k: &KeyInfo| {
        verify::verify_v3(&w.incoming(), now, |_| Some(k.clone()), &Nonces::default())
    };
    let w = wire(v);
    assert!(check(&w, &good).is_ok());

    let expired = KeyInfo {
        expiration: Some(now - Duration::from_secs(1)),
        ..good.clone()
    };
    assert_eq!(
        check(&w, &expired).unwrap_err().code,
        "InvalidSecurityToken.Expired"
    );
    let other_token = KeyInfo {
        security_token: Some("another-token".into()),
        ..good.clone()
    };
    assert_eq!(
        check(&w, &other_token).unwrap_err().code,
        "InvalidSecurityToken.MismatchWithAccessKey"
    );

    // The token sent but left out of SignedHeaders: an incomplete signature.
    let mut unsigned = wire(v);
    let auth = s(v, "authorization").replace("x-acs-security-token;", "");
    unsigned
        .headers
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    let e = check(&unsigned, &good).unwrap_err();
    assert_eq!(e.code, "IncompleteSignature");
    assert!(e.message.contains("x-acs-security-token"), "{}", e.message);

    // No token at all for an STS key.
    let mut missing = wire(v);
    missing.headers.remove("x-acs-security-token");
    missing
        .headers
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    assert_eq!(
        check(&missing, &good).unwrap_err().code,
        "MissingSecurityToken"
    );
}

#[test]
fn mandatory_headers_and_body_hash() {
    let all = vectors();
    let v = all["v3"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| s(v, "id") == "v3-rpc-form-body")
        .unwrap();
    let now = verify::parse_date(s(&v["headers"], "x-acs-date")).unwrap();
    let good = key(v, s(v, "access_key_secret"));
    let check = |w: &Wire| {
        verify::verify_v3(
            &w.incoming(),
            now,
            |_| Some(good.clone()),
            &Nonces::default(),
        )
    };
    assert!(check(&wire(v)).is_ok());

    // A body that is not the one hashed.
    let mut tampered = wire(v);
    tampered.body = b"GroupId=someone-else".to_vec();
    let e = check(&tampered).unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e.message.contains("x-acs-content-sha256"), "{}", e.message);

    // Each mandatory header left out of SignedHeaders.
    for m in verify::MANDATORY_SIGNED {
        let mut w = wire(v);
        let auth = s(v, "authorization")
            .replace(&format!("{m};"), "")
            .replace(&format!(";{m},"), ",");
        w.headers
            .insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let e = check(&w).unwrap_err();
        assert_eq!(e.code, "IncompleteSignature", "{m}");
        assert!(e.message.contains(m), "{m}: {}", e.message);
    }

    // SignedHeaders out of order.
    let mut w = wire(v);
    let auth = s(v, "authorization").replace("content-type;host;", "host;content-type;");
    w.headers
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    assert_eq!(check(&w).unwrap_err().code, "IncompleteSignature");

    // A date that is not yyyy-MM-ddTHH:mm:ssZ.
    let mut w = wire(v);
    w.headers.insert(
        "x-acs-date",
        HeaderValue::from_static("Mon, 20 May 2024 08:00:06 GMT"),
    );
    assert_eq!(check(&w).unwrap_err().code, "InvalidTimeStamp.Format");
}

#[test]
fn the_host_header_is_signed_with_its_port() {
    // A loopback stand-in is reached as 127.0.0.1:PORT: the port is part of what is signed.
    let all = vectors();
    let v = &all["v3"][2];
    let now = verify::parse_date(s(&v["headers"], "x-acs-date")).unwrap();
    let good = key(v, s(v, "access_key_secret"));
    let mut w = wire(v);
    w.headers
        .insert("host", HeaderValue::from_static("127.0.0.1:18080"));
    let signed: Vec<String> = MANDATORY.iter().map(|h| (*h).to_owned()).collect();
    let canonical = canonical_for(&w.incoming(), &signed);
    assert!(
        canonical.contains("\nhost:127.0.0.1:18080\n"),
        "{canonical}"
    );
    let sig = v3_signature(&good.secret, &string_to_sign(&canonical));
    w.headers.insert(
        "authorization",
        HeaderValue::from_str(&format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={sig}",
            s(v, "access_key_id"),
            signed.join(";")
        ))
        .unwrap(),
    );
    let lookup = |_: &str| Some(good.clone());
    assert!(verify::verify_v3(&w.incoming(), now, lookup, &Nonces::default()).is_ok());
    // Signed without the port: refused.
    w.headers
        .insert("host", HeaderValue::from_static("127.0.0.1"));
    assert_eq!(
        verify::verify_v3(&w.incoming(), now, lookup, &Nonces::default())
            .unwrap_err()
            .code,
        "SignatureDoesNotMatch"
    );
}

const MANDATORY: &[&str] = &[
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
];

#[test]
fn every_v2_vector_is_recomputed_and_accepted() {
    let all = vectors();
    let v2 = all["v2"].as_array().unwrap();
    assert_eq!(v2.len(), 2);
    for v in v2 {
        let id = s(v, "id");
        let params = pairs(&v["params"]);
        let method = s(v, "method");
        let sts = v2_string_to_sign(method, &params);
        assert_eq!(sts, s(v, "string_to_sign"), "{id}");
        let secret = s(v, "access_key_secret");
        assert_eq!(v2_signature(secret, &sts), s(v, "signature"), "{id}");

        let mut signed = params.clone();
        signed.push(("Signature".into(), s(v, "signature").to_owned()));
        let now = verify::parse_date(s(&v["params"], "Timestamp")).unwrap();
        let k = KeyInfo {
            secret: secret.to_owned(),
            security_token: v["params"]["SecurityToken"].as_str().map(str::to_owned),
            expiration: None,
            disabled: false,
        };
        let nonces = Nonces::default();
        let ok = verify::verify_v2(method, &signed, now, |_| Some(k.clone()), &nonces)
            .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert_eq!(ok.signature_version, "v2");
        let again = verify::verify_v2(method, &signed, now, |_| Some(k.clone()), &nonces);
        assert_eq!(again.unwrap_err().code, "SignatureNonceUsed");
        let wrong = KeyInfo {
            secret: "nope".into(),
            ..k.clone()
        };
        let e = verify::verify_v2(
            method,
            &signed,
            now,
            |_| Some(wrong.clone()),
            &Nonces::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(e.message.ends_with(&sts), "{id}: echoes the string to sign");
        // V2's window is 31 minutes.
        let late = now + Duration::from_secs(32 * 60);
        let e = verify::verify_v2(
            method,
            &signed,
            late,
            |_| Some(k.clone()),
            &Nonces::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidTimeStamp.Expired");
    }
}

#[test]
fn the_sdk_unit_test_vectors() {
    // darabonba-openapi-util's own vector, in its Python, Go and Java forms: a repeated header
    // is joined (Python, Go) or the last one kept (Java); Go signs an empty method.
    let all = vectors();
    for v in all["sdk_unit"].as_array().unwrap() {
        let id = s(v, "id");
        let query = canonical_query(&pairs(&v["query"]));
        assert_eq!(query, "empty=&test=ok", "{id}");
        let mut headers = HeaderMap::new();
        for h in v["headers"].as_array().unwrap() {
            let name = h[0].as_str().unwrap().to_ascii_lowercase();
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(h[1].as_str().unwrap()).unwrap(),
            );
        }
        headers.insert(
            "x-acs-content-sha256",
            HeaderValue::from_str(s(v, "payload_hash")).unwrap(),
        );
        let incoming = Incoming {
            method: s(v, "method"),
            path: s(v, "uri"),
            query: "test=ok&empty=",
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_for(&incoming, &["x-acs-test".to_owned()]);
        let (name, value) = s(v, "canonical_headers").split_once(':').unwrap();
        assert_eq!(
            canonical,
            canonical_request(
                s(v, "method"),
                "/",
                &query,
                &[(name.to_owned(), value.to_owned())],
                s(v, "payload_hash")
            ),
            "{id}"
        );
        assert_eq!(
            v3_signature(s(v, "access_key_secret"), &string_to_sign(&canonical)),
            s(v, "signature"),
            "{id}"
        );
    }
}

#[test]
fn a_raw_plus_in_the_query_is_a_space() {
    // §1.8: a `+` in a value must be sent as %2B. A client that sends it raw signed a plus but
    // the server reads a space: refused, as the real endpoints' form decoding would.
    let all = vectors();
    let v = all["v3"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| s(v, "id") == "v3-encoding-edge-cases")
        .unwrap();
    let now = verify::parse_date(s(&v["headers"], "x-acs-date")).unwrap();
    let good = key(v, s(v, "access_key_secret"));
    let mut w = wire(v);
    assert!(w.query.contains("%2B"));
    w.query = w.query.replace("%2B", "+");
    let e = verify::verify_v3(
        &w.incoming(),
        now,
        |_| Some(good.clone()),
        &Nonces::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
}
