//! A DNS server for the stand-in: answers like the VPC's DNS (100.100.2.136) does for a group's
//! VPC second-level domain, and can be told to fail in each way a real one fails.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::http::{accept_loop, AbortOnDrop};

/// TTL of every answer: short, as the probe never caches anyway.
const TTL: u32 = 5;

/// How the server answers for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// A records for IPv4 addresses, AAAA for IPv6; a query of the other type gets NOERROR and
    /// no answer.
    Answer(Vec<IpAddr>),
    /// The name does not exist (what the VPC DNS says while the VPC domain is not enabled).
    NxDomain,
    /// SERVFAIL.
    ServFail,
    /// REFUSED.
    Refused,
    /// NOERROR with no records.
    NoRecords,
    /// Never answer: for timeouts.
    Drop,
}

/// Names (lowercase, without the trailing dot) and how to answer them; unknown names are
/// NXDOMAIN.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    names: Arc<RwLock<HashMap<String, Behaviour>>>,
}

impl Zone {
    /// Sets how `name` is answered (replacing what was set before).
    pub fn set(&self, name: &str, behaviour: Behaviour) {
        if let Ok(mut names) = self.names.write() {
            names.insert(normalize(name), behaviour);
        }
    }

    /// How `name` is answered now.
    pub fn get(&self, name: &str) -> Behaviour {
        self.lookup(name)
    }

    fn lookup(&self, name: &str) -> Behaviour {
        self.names
            .read()
            .ok()
            .and_then(|names| names.get(&normalize(name)).cloned())
            .unwrap_or(Behaviour::NxDomain)
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A running DNS server (UDP and TCP on the same address); stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Zone,
    queries: Arc<AtomicU64>,
    _tasks: [AbortOnDrop; 2],
}

impl DnsServer {
    /// Starts on `listen` (port 0: any free port, the same for UDP and TCP).
    pub async fn start(listen: SocketAddr, zone: Zone) -> io::Result<Self> {
        let (udp, tcp) = bind_pair(listen).await?;
        let addr = udp.local_addr()?;
        let queries = Arc::new(AtomicU64::new(0));
        let udp_task = AbortOnDrop(tokio::spawn(serve_udp(udp, zone.clone(), queries.clone())));
        let tcp_zone = zone.clone();
        let tcp_queries = queries.clone();
        let tcp_task = accept_loop(tcp, move |stream, _| {
            serve_tcp_conn(stream, tcp_zone.clone(), tcp_queries.clone())
        });
        Ok(Self {
            addr,
            zone,
            queries,
            _tasks: [udp_task, tcp_task],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The zone, to change answers while the server runs.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Queries received so far (UDP and TCP).
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// A UDP socket and a TCP listener on the same port. With port 0 the port the kernel picks for
/// UDP may be taken for TCP (another listener, TIME-WAIT): then try another one.
async fn bind_pair(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut tries = if listen.port() == 0 { 20 } else { 1 };
    loop {
        let udp = UdpSocket::bind(listen).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries > 1 => tries -= 1,
            Err(e) => return Err(e),
        }
    }
}

async fn serve_udp(socket: UdpSocket, zone: Zone, queries: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        queries.fetch_add(1, Ordering::Relaxed);
        if let Some(answer) = answer(&buf[..n], &zone) {
            let _ = socket.send_to(&answer, peer).await;
        }
    }
}

/// DNS over TCP: each message is prefixed by its 16-bit length.
async fn serve_tcp_conn(mut stream: TcpStream, zone: Zone, queries: Arc<AtomicU64>) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut buf = vec![0u8; usize::from(len)];
        if stream.read_exact(&mut buf).await.is_err() {
            return;
        }
        queries.fetch_add(1, Ordering::Relaxed);
        let Some(answer) = answer(&buf, &zone) else {
            continue;
        };
        let Ok(len) = u16::try_from(answer.len()) else {
            return;
        };
        if stream.write_u16(len).await.is_err() || stream.write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// The encoded answer to one query; `None` to stay silent (malformed query, or `Drop`).
fn answer(query: &[u8], zone: &Zone) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    let Some(question) = request.queries.first().cloned() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response.to_vec().ok();
    };
    let name = question.name().clone();
    let qtype = question.query_type();
    response.add_query(question);
    match zone.lookup(&name.to_ascii()) {
        Behaviour::Drop => return None,
        Behaviour::NxDomain => response.metadata.response_code = ResponseCode::NXDomain,
        Behaviour::ServFail => response.metadata.response_code = ResponseCode::ServFail,
        Behaviour::Refused => response.metadata.response_code = ResponseCode::Refused,
        Behaviour::NoRecords => {}
        Behaviour::Answer(addrs) => {
            for ip in addrs {
                let rdata = match (ip, qtype) {
                    (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => RData::A(A(v4)),
                    (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(v6)),
                    _ => continue,
                };
                response.add_answer(Record::from_rdata(name.clone(), TTL, rdata));
            }
        }
    }
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;
    use std::str::FromStr;

    fn query(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.add_query(Query::query(Name::from_str(name).unwrap(), qtype));
        m.to_vec().unwrap()
    }

    #[test]
    fn answers_by_behaviour() {
        let zone = Zone::default();
        zone.set(
            "Api.Example.",
            Behaviour::Answer(vec!["10.0.0.7".parse().unwrap()]),
        );
        zone.set("fail.example", Behaviour::ServFail);
        zone.set("quiet.example", Behaviour::Drop);
        let a = Message::from_vec(&answer(&query("api.example.", RecordType::A), &zone).unwrap())
            .unwrap();
        assert_eq!(a.answers.len(), 1);
        let aaaa =
            Message::from_vec(&answer(&query("api.example.", RecordType::AAAA), &zone).unwrap())
                .unwrap();
        assert!(aaaa.answers.is_empty());
        assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
        let nx = Message::from_vec(&answer(&query("nope.example.", RecordType::A), &zone).unwrap())
            .unwrap();
        assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
        let sf = Message::from_vec(&answer(&query("fail.example.", RecordType::A), &zone).unwrap())
            .unwrap();
        assert_eq!(sf.metadata.response_code, ResponseCode::ServFail);
        assert!(answer(&query("quiet.example.", RecordType::A), &zone).is_none());
        assert!(answer(b"\x00\x01garbage", &zone).is_none());
    }
}
