//! The README is part of the contract: it must name every error class and every setting.

use apigw_vpc_probe::crosscheck::Verdict;
use apigw_vpc_probe::error::ErrorClass;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

#[test]
fn readme_lists_every_error_class() {
    let readme = readme();
    for class in ErrorClass::FIXED {
        assert!(
            readme.contains(&format!("`{}`", class.name())),
            "README lacks {class}"
        );
    }
}

#[test]
fn readme_lists_every_push_class() {
    let readme = readme();
    let section = readme
        .split("### Pushed metrics")
        .nth(1)
        .expect("README has the push section");
    for class in apigw_vpc_probe::push::PushClass::ALL {
        assert!(
            section.contains(&format!("| `{}` |", class.name())),
            "README's push classes lack {}",
            class.name()
        );
    }
}

#[test]
fn readme_lists_every_verdict() {
    let readme = readme();
    let table = readme
        .split("<!-- verdicts:")
        .nth(1)
        .expect("README has the verdict table");
    for verdict in Verdict::ALL {
        assert!(
            table.contains(&format!("| `{}` |", verdict.name())),
            "README's verdict table lacks {verdict}"
        );
    }
}

#[test]
fn readme_documents_every_setting() {
    let readme = readme();
    // The server's own limits are read in runtime/server.rs, the OpenAPI client's in
    // openapi/endpoint.rs, the cross-check's in crosscheck/mod.rs, the push's in push/mod.rs.
    let source = [
        "/src/config.rs",
        "/src/runtime/server.rs",
        "/src/openapi/endpoint.rs",
        "/src/crosscheck/mod.rs",
        "/src/push/mod.rs",
    ]
    .map(|f| std::fs::read_to_string(format!("{}{f}", env!("CARGO_MANIFEST_DIR"))).expect(f))
    .concat();
    let mut seen = 0;
    for (i, _) in source.match_indices("\"APIGW_") {
        let name: String = source[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        seen += 1;
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    assert!(seen > 10, "found only {seen} settings in config.rs");
}
