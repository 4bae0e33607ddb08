//! The shared signature vectors (tests/fixtures/apigw-sign-vectors.json): the client's signer
//! must reproduce every `string_to_sign` and `signature`.

use apigw_vpc_probe::apigw::sign::{content_md5, signature, Canonical, SignatureMethod};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apigw-sign-vectors.json"
    ))
    .expect("fixture");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    doc["vectors"].as_array().expect("vectors").clone()
}

fn pairs(v: &Value) -> Vec<(&str, &str)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect()
}

#[test]
fn client_signer_reproduces_every_vector() {
    let vectors = vectors();
    assert!(vectors.len() >= 5);
    for v in &vectors {
        let id = v["id"].as_str().unwrap();
        let headers: Vec<(String, &str)> = v["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap()))
            .collect();
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        let signed_names: Vec<&str> = v["x_ca_signature_headers"]
            .as_str()
            .unwrap()
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let canonical = Canonical {
            method: v["method"].as_str().unwrap(),
            accept: header("accept"),
            content_md5: header("content-md5"),
            content_type: header("content-type"),
            date: header("date"),
            signed_headers: signed_names
                .iter()
                .map(|n| (*n, header(n).unwrap_or("")))
                .collect(),
            path: v["path"].as_str().unwrap(),
            query: pairs(&v["query"]),
            form: pairs(&v["form"]),
        };
        let sts = canonical.string_to_sign();
        assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "{id}");
        let method: SignatureMethod = v["alg"].as_str().unwrap().parse().unwrap();
        let sig = signature(method, v["secret"].as_str().unwrap().as_bytes(), &sts);
        assert_eq!(sig, v["signature"].as_str().unwrap(), "{id}");
        if let Some(body) = v["body"].as_str() {
            assert_eq!(
                Some(content_md5(body.as_bytes()).as_str()),
                header("content-md5"),
                "{id}"
            );
        }
    }
}
