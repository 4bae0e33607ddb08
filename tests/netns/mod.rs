//! Isolated network namespaces for tests that must never send a packet outside this machine:
//! forbidden addresses (metadata service), addresses that drop packets, missing routes.
//!
//! The test body runs on its own thread after `unshare(CLONE_NEWNET)`: every socket it opens
//! and every process it spawns lives in a namespace that has loopback and one veth pair whose
//! peer swallows everything routed to it. An nftables counter records any packet towards the
//! addresses that must never be dialled.

// Shared by several test crates, each using a part: `pub` here is for them, not an API.
#![allow(unreachable_pub)]
#![allow(dead_code)]

use std::future::Future;
use std::process::Command;

/// An address routed into the veth pair: a SYN to it goes unanswered (`tcp.timeout`).
pub const BLACKHOLE: &str = "10.200.0.99";
/// A network with an `unreachable` route (`tcp.unreachable`).
pub const UNREACHABLE: &str = "10.201.0.5";

/// Why isolation is not possible here, if it is not (not root, or tools missing).
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root to create a network namespace".into());
    }
    for tool in ["ip", "nft"] {
        let found = Command::new(tool).arg("-V").output().is_ok();
        if !found {
            return Some(format!(
                "needs `{tool}` (Debian: iproute2, nftables; run `make deps`)"
            ));
        }
    }
    None
}

/// Runs `body` inside a fresh network namespace; `None` (with a note on stderr) when isolation
/// is unavailable, so the caller can skip.
pub fn isolated<T, F, Fut>(body: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    if let Some(why) = unavailable() {
        eprintln!("SKIPPED (network namespace): {why}");
        return None;
    }
    let handle = std::thread::spawn(move || {
        // SAFETY: unshare on this thread only; the thread owns no sockets yet.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        setup();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(body())
    });
    match handle.join() {
        Ok(v) => Some(v),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn sh(script: &str) {
    let out = Command::new("sh")
        .args(["-ec", script])
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn setup() {
    sh("ip link set lo up
        ip link add v0 type veth peer name v1
        ip link set v0 up
        ip link set v1 up
        ip addr add 10.200.0.1/24 dev v0
        ip route add default dev v0
        ip route add unreachable 10.201.0.0/16");
    let rules = "table inet probe_guard {
  counter forbidden {}
  counter blackhole {}
  chain out {
    type filter hook output priority 0;
    ip daddr 100.100.100.200 counter name forbidden
    ip daddr 169.254.0.0/16 counter name forbidden
    ip daddr 10.200.0.99 counter name blackhole
  }
}";
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin.write_all(rules.as_bytes()).expect("write rules");
    }
    assert!(child.wait().expect("nft").success(), "nft rules");
}

/// Drops every packet this namespace sends to `ip` (an address that answers nothing, e.g. one
/// of a name's addresses), counting them in the counter `dropped`.
pub fn drop_to(ip: &str) {
    sh(&format!(
        "nft add counter inet probe_guard dropped
         nft insert rule inet probe_guard out ip daddr {ip} counter name dropped drop"
    ));
}

/// Packets counted by the named counter (`forbidden` or `blackhole`) in this namespace.
pub fn packets(counter: &str) -> u64 {
    let out = Command::new("nft")
        .args(["list", "counter", "inet", "probe_guard", counter])
        .output()
        .expect("nft list");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count in {text}"))
}
