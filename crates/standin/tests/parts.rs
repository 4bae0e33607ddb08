//! The stand-in's parts as processes (as the network lab runs them), each on a port the kernel
//! chose, found through the launcher from the `{"standin": …, "listen": …}` line it prints.

use std::time::Duration;

use apigw_standin::launch::Launch;

const STANDIN: &str = env!("CARGO_BIN_EXE_apigw-standin");

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn backend_and_gateway_parts_listen_where_they_say() {
    let backend = Launch::new(STANDIN)
        .args(["backend", "--listen", "127.0.0.1:0"])
        .start()
        .expect("the backend part");
    assert_ne!(backend.addr().port(), 0);
    let answer = client()
        .get(backend.url("/web/cloudapi"))
        .send()
        .await
        .expect("the backend answers");
    assert_eq!(answer.status(), 200);

    let api = format!("GET:/web/cloudapi:RELEASE={}", backend.url("/web/cloudapi"));
    let gateway = Launch::new(STANDIN)
        .args([
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--domain",
            "api.example",
        ])
        .args(["--api", api.as_str()])
        .start()
        .expect("the gateway part");
    let answer = client()
        .get(gateway.url("/web/cloudapi"))
        .header("host", "api.example")
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().contains_key("x-ca-request-id"));
}

#[test]
fn the_dns_part_says_where_it_listens() {
    let dns = Launch::new(STANDIN)
        .args([
            "dns",
            "--listen",
            "127.0.0.1:0",
            "--record",
            "a.example=10.0.0.1",
        ])
        .start()
        .expect("the dns part");
    assert!(dns.addr().ip().is_loopback());
    assert_ne!(dns.addr().port(), 0);
    assert!(
        dns.stdout()[0].contains("\"standin\":\"dns\""),
        "{:?}",
        dns.stdout()
    );
}

#[test]
fn a_part_that_cannot_listen_is_an_error_with_its_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Launch::new(STANDIN)
        .args([
            "backend",
            "--listen",
            &taken.local_addr().unwrap().to_string(),
        ])
        .start()
        .unwrap_err();
    assert!(err.to_string().contains("cannot listen"), "{err}");
}
