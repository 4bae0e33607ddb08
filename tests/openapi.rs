//! The OpenAPI client (src/openapi/): the V3 signer against every vector of the spec.

use apigw_vpc_probe::openapi::sign::{canonical_request, sha256_hex, sign, SignInput};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

// ---------------------------------------------------------------------------------------------
// The spec's vectors.

fn vectors() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/acs3-vectors.json"))
        .expect("tests/fixtures/acs3-vectors.json");
    serde_json::from_str(&text).expect("vectors JSON")
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
        .collect()
}

#[test]
fn signer_reproduces_every_v3_vector_of_the_spec() {
    let all = vectors();
    assert!(all["source"]
        .as_str()
        .unwrap()
        .contains("control-plane.md §1.9"));
    let v3 = all["v3"].as_array().unwrap();
    assert_eq!(v3.len(), 8, "every V3 vector of §1.9");
    for v in v3 {
        let id = v["id"].as_str().unwrap();
        let body = v["body"].as_str().unwrap();
        let content_sha256 = v["x_acs_content_sha256"].as_str().unwrap();
        assert_eq!(
            sha256_hex(body.as_bytes()),
            content_sha256,
            "{id}: body hash"
        );
        let mut headers = pairs(&v["headers"]);
        headers.push(("x-acs-content-sha256".into(), content_sha256.into()));
        let query = pairs(&v["query"]);
        let input = SignInput {
            method: v["method"].as_str().unwrap(),
            canonical_uri: v["uri"].as_str().unwrap(),
            query: &query,
            headers: &headers,
            content_sha256,
        };
        let canonical = canonical_request(&input);
        assert_eq!(canonical, v["canonical_request"].as_str().unwrap(), "{id}");
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            v["hashed_canonical_request"].as_str().unwrap(),
            "{id}"
        );
        let signed = sign(
            &input,
            v["access_key_id"].as_str().unwrap(),
            v["access_key_secret"].as_str().unwrap(),
        );
        assert_eq!(signed.signature, v["signature"].as_str().unwrap(), "{id}");
        assert_eq!(
            signed.authorization,
            v["authorization"].as_str().unwrap(),
            "{id}"
        );
    }
}

#[test]
fn signer_matches_the_python_and_go_utils_on_their_unit_test_vector() {
    let t = &vectors()["sdk_unit_test"];
    let query = pairs(&t["query"]);
    let headers: Vec<(String, String)> = t["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
        .collect();
    for case in t["cases"].as_array().unwrap() {
        let input = SignInput {
            method: case["method"].as_str().unwrap(),
            canonical_uri: t["uri"].as_str().unwrap(),
            query: &query,
            headers: &headers,
            content_sha256: t["x_acs_content_sha256"].as_str().unwrap(),
        };
        let signed = sign(
            &input,
            t["access_key_id"].as_str().unwrap(),
            t["access_key_secret"].as_str().unwrap(),
        );
        let matches = signed.signature == case["signature"].as_str().unwrap();
        // Java keeps one value of the repeated header; we join them as Python and Go do.
        assert_eq!(
            matches,
            case["expected_to_match"].as_bool().unwrap(),
            "{}",
            case["language"]
        );
        if matches {
            assert!(canonical_request(&input).contains(&format!(
                "\n{}\n",
                case["canonical_headers"].as_str().unwrap()
            )));
        }
    }
}
