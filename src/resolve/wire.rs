//! DNS messages (RFC 1035) as far as the resolver needs them: a query with one question out, the
//! response's code and addresses back.
//!
//! Responses come from the network: every read is bounds-checked, nothing panics on them, and
//! compression pointers are followed at most [`MAX_HOPS`] times.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record type A (an IPv4 address).
pub(super) const TYPE_A: u16 = 1;
/// Record type AAAA (an IPv6 address).
pub(super) const TYPE_AAAA: u16 = 28;
/// Record type CNAME (an alias: the name's records are its target's).
const TYPE_CNAME: u16 = 5;
/// CNAMEs followed from the question's name, at most (a chain longer than this, or a loop,
/// ends there; servers rarely send more than two).
const MAX_CNAMES: usize = 8;
/// Class IN.
const CLASS_IN: u16 = 1;
/// Size of the header.
const HEADER: usize = 12;
/// Longest name on the wire, its length octets and the root's included (RFC 1035 3.1).
const MAX_NAME: usize = 255;
/// Longest label.
const MAX_LABEL: usize = 63;
/// Compression pointers followed within one name, at most. A name has at most 127 labels, but
/// real servers point once or twice; a loop is caught at the first hop past this.
const MAX_HOPS: usize = 32;

/// QR: the message is a response.
const FLAG_QR: u16 = 0x8000;
/// TC: the response was truncated (ask again over TCP).
const FLAG_TC: u16 = 0x0200;
/// RD: recursion desired.
const FLAG_RD: u16 = 0x0100;

/// The response code (the header's 4 bits; extended codes need EDNS, which is not sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rcode {
    NoError,
    FormErr,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
    Other(u8),
}

impl Rcode {
    fn from_bits(bits: u8) -> Self {
        match bits {
            0 => Self::NoError,
            1 => Self::FormErr,
            2 => Self::ServFail,
            3 => Self::NxDomain,
            4 => Self::NotImp,
            5 => Self::Refused,
            other => Self::Other(other),
        }
    }

    /// The name in messages (the words hickory used, which reports already carry).
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::NoError => "No Error",
            Self::FormErr => "Form Error",
            Self::ServFail => "Server Failure",
            Self::NxDomain => "Non-Existent Domain",
            Self::NotImp => "Not Implemented",
            Self::Refused => "Query Refused",
            Self::Other(6) => "Name should not exist",
            Self::Other(7) => "RR Set should not exist",
            Self::Other(8) => "RR Set does not exist",
            Self::Other(9) => "Not authorized",
            Self::Other(10) => "Name not in zone",
            Self::Other(_) => "Unknown response code",
        }
    }
}

/// One question: the name on the wire (lowercase, for comparing) and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Question {
    name: Vec<u8>,
    qtype: u16,
}

impl Question {
    /// The question for the absolute name `name` (with or without its trailing dot). Refused:
    /// an empty name or label, a label over 63 octets, a name over 255.
    pub(super) fn new(name: &str, qtype: u16) -> Result<Self, &'static str> {
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.is_empty() {
            return Err("empty name");
        }
        let mut wire = Vec::with_capacity(name.len() + 2);
        for label in name.split('.') {
            if label.is_empty() {
                return Err("empty label in the name");
            }
            if label.len() > MAX_LABEL {
                return Err("label longer than 63 octets in the name");
            }
            // At most 63, checked above.
            wire.push(label.len() as u8);
            wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
        }
        wire.push(0);
        if wire.len() > MAX_NAME {
            return Err("name longer than 255 octets");
        }
        Ok(Self { name: wire, qtype })
    }

    /// The query with this question: `id`, RD set, class IN.
    pub(super) fn query(&self, id: u16) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.name.len() + 4);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&FLAG_RD.to_be_bytes());
        // QDCOUNT 1, ANCOUNT, NSCOUNT, ARCOUNT 0.
        out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&self.name);
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out
    }
}

/// What a response to our query says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Response {
    pub rcode: Rcode,
    /// TC: ask again over TCP (the addresses are then not read).
    pub truncated: bool,
    /// Every A and AAAA record of the answer section, in order.
    pub addresses: Vec<IpAddr>,
}

/// Why a message is not taken as the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reject {
    /// Not a response, another ID, or another question: not the answer to this query.
    NotOurs,
    /// Cut short, or a field pointing outside the message.
    Malformed,
}

/// Reads `msg` as the response to the query `id` with `question`.
pub(super) fn parse_response(msg: &[u8], id: u16, question: &Question) -> Result<Response, Reject> {
    let mut r = Reader { msg, pos: 0 };
    let got_id = r.u16()?;
    let flags = r.u16()?;
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    r.u16()?; // NSCOUNT
    r.u16()?; // ARCOUNT
    if got_id != id || flags & FLAG_QR == 0 || qdcount != 1 {
        return Err(Reject::NotOurs);
    }
    let name = r.name()?;
    let qtype = r.u16()?;
    let qclass = r.u16()?;
    if name != question.name || qtype != question.qtype || qclass != CLASS_IN {
        return Err(Reject::NotOurs);
    }
    let rcode = Rcode::from_bits((flags & 0x000f) as u8);
    if flags & FLAG_TC != 0 {
        return Ok(Response {
            rcode,
            truncated: true,
            addresses: Vec::new(),
        });
    }
    // The answer's records, then the addresses of the names the question leads to: the
    // question's own and its CNAMEs' targets, as a stub resolver takes them (a record owned by
    // any other name is not an answer to this question).
    let mut records = Vec::new();
    for _ in 0..ancount {
        let owner = r.name()?;
        let rtype = r.u16()?;
        let class = r.u16()?;
        r.take(4)?; // TTL
        let len = usize::from(r.u16()?);
        let start = r.pos;
        let rdata = r.take(len)?;
        if class != CLASS_IN {
            continue;
        }
        let data = match (rtype, rdata) {
            (TYPE_A, &[a, b, c, d]) => Data::Address(IpAddr::V4(Ipv4Addr::new(a, b, c, d))),
            (TYPE_AAAA, rdata) if rdata.len() == 16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(rdata);
                Data::Address(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            // The target may point back into the message, so it is read where it lies.
            (TYPE_CNAME, _) => Data::Alias(Reader { msg, pos: start }.name()?),
            _ => continue,
        };
        records.push((owner, data));
    }
    let mut names = vec![question.name.clone()];
    while names.len() <= MAX_CNAMES {
        let current = &names[names.len() - 1];
        let next = records.iter().find_map(|(owner, data)| match data {
            Data::Alias(target) if owner == current => Some(target),
            _ => None,
        });
        match next {
            Some(target) if !names.contains(target) => names.push(target.clone()),
            _ => break,
        }
    }
    let addresses = records
        .into_iter()
        .filter_map(|(owner, data)| match data {
            Data::Address(ip) if names.contains(&owner) => Some(ip),
            _ => None,
        })
        .collect();
    Ok(Response {
        rcode,
        truncated: false,
        addresses,
    })
}

/// What an answer record says, of the kinds the resolver reads.
enum Data {
    Address(IpAddr),
    /// A CNAME's target, in the form [`Reader::name`] gives.
    Alias(Vec<u8>),
}

/// A cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Reject> {
        let end = self.pos.checked_add(n).ok_or(Reject::Malformed)?;
        let bytes = self.msg.get(self.pos..end).ok_or(Reject::Malformed)?;
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, Reject> {
        match *self.take(2)? {
            [hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(Reject::Malformed),
        }
    }

    /// The name at the cursor, uncompressed and lowercase in wire form; the cursor moves past
    /// it (past the first pointer, when it is compressed).
    fn name(&mut self) -> Result<Vec<u8>, Reject> {
        let mut out = Vec::with_capacity(32);
        let mut at = self.pos;
        let mut after: Option<usize> = None;
        let mut hops = 0;
        loop {
            let len = *self.msg.get(at).ok_or(Reject::Malformed)?;
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    let label = self
                        .msg
                        .get(at + 1..at + 1 + len)
                        .ok_or(Reject::Malformed)?;
                    out.push(len as u8);
                    out.extend(label.iter().map(u8::to_ascii_lowercase));
                    if out.len() > MAX_NAME {
                        return Err(Reject::Malformed);
                    }
                    at += 1 + len;
                    if len == 0 {
                        self.pos = after.unwrap_or(at);
                        return Ok(out);
                    }
                }
                0xc0 => {
                    let low = *self.msg.get(at + 1).ok_or(Reject::Malformed)?;
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err(Reject::Malformed);
                    }
                    after.get_or_insert(at + 2);
                    at = usize::from(len & 0x3f) << 8 | usize::from(low);
                }
                // 0x40 and 0x80: extended label types (RFC 6891 deprecated them).
                _ => return Err(Reject::Malformed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query for `api.example` A with ID 0x1234 (what `Question::query` must write).
    const QUERY: [u8; 29] = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header: RD, one question
        3, b'a', b'p', b'i', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, // api.example.
        0, 1, 0, 1, // A, IN
    ];

    fn question(name: &str, qtype: u16) -> Question {
        Question::new(name, qtype).expect("valid name")
    }

    /// A response to `query` (its ID and question) with `flags` and `answers` (each record's
    /// bytes from its owner name on).
    fn response(query: &[u8], flags: u16, answers: &[Vec<u8>]) -> Vec<u8> {
        let mut out = query.to_vec();
        out[2..4].copy_from_slice(&(flags | FLAG_QR).to_be_bytes());
        out[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
        for a in answers {
            out.extend_from_slice(a);
        }
        out
    }

    /// A record: `owner` in wire form (or a pointer), type, IN, TTL 60, `rdata`.
    fn record(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut out = owner.to_vec();
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&60u32.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
        out
    }

    /// A pointer to the question's name (offset 12).
    const TO_QNAME: [u8; 2] = [0xc0, 12];

    #[test]
    fn encodes_the_query() {
        assert_eq!(question("api.example", TYPE_A).query(0x1234), QUERY);
        // The trailing dot and the case change nothing but the ID and type written.
        let q = question("API.Example.", TYPE_AAAA).query(0xbeef);
        assert_eq!(&q[..2], &[0xbe, 0xef]);
        assert_eq!(&q[2..], &[&QUERY[2..25], &[0, 28, 0, 1][..]].concat()[..]);
    }

    #[test]
    fn refuses_names_that_cannot_be_sent() {
        assert_eq!(Question::new("", TYPE_A), Err("empty name"));
        assert_eq!(Question::new(".", TYPE_A), Err("empty name"));
        assert_eq!(
            Question::new("a..example", TYPE_A),
            Err("empty label in the name")
        );
        let long_label = "a".repeat(64);
        assert!(Question::new(&long_label, TYPE_A).is_err());
        assert!(Question::new(&"a".repeat(63), TYPE_A).is_ok());
        // 4 labels of 63 + their length octets + the root: 257 octets.
        let long_name = [&*"a".repeat(63); 4].join(".");
        assert_eq!(
            Question::new(&long_name, TYPE_A),
            Err("name longer than 255 octets")
        );
    }

    #[test]
    fn reads_a_and_aaaa_records_in_order() {
        let q = question("api.example", TYPE_A);
        let msg = response(
            &QUERY,
            0,
            &[
                record(&TO_QNAME, TYPE_A, &[10, 0, 0, 7]),
                record(&TO_QNAME, TYPE_A, &[10, 0, 0, 8]),
            ],
        );
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        assert_eq!(r.rcode, Rcode::NoError);
        assert!(!r.truncated);
        assert_eq!(
            r.addresses,
            ["10.0.0.7", "10.0.0.8"].map(|a| a.parse::<IpAddr>().unwrap())
        );

        let mut query6 = QUERY.to_vec();
        query6[26] = 28;
        let q6 = question("api.example", TYPE_AAAA);
        let v6: Ipv6Addr = "fd00::1:2".parse().unwrap();
        let msg = response(&query6, 0, &[record(&TO_QNAME, TYPE_AAAA, &v6.octets())]);
        let r = parse_response(&msg, 0x1234, &q6).expect("our response");
        assert_eq!(r.addresses, [IpAddr::V6(v6)]);
    }

    #[test]
    fn follows_a_cname_to_its_addresses() {
        let q = question("api.example", TYPE_A);
        // api.example CNAME gw.api.example (gw + pointer to the question), then the A record
        // owned by that target, named by a pointer to the CNAME's data.
        let cname = record(&TO_QNAME, 5, &[2, b'g', b'w', 0xc0, 12]);
        let target_at = (QUERY.len() + cname.len() - 5) as u8;
        let a = record(&[0xc0, target_at], TYPE_A, &[192, 168, 1, 9]);
        let msg = response(&QUERY, 0, &[cname, a]);
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        assert_eq!(r.addresses, ["192.168.1.9".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn takes_only_the_addresses_of_the_question_and_its_aliases() {
        let q = question("api.example", TYPE_A);
        // API.example CNAME a.example, a.example CNAME b.example (owner names in any case),
        // then addresses owned by b.example, by a name outside the chain, and by the question.
        let name = |labels: &[&str]| {
            let mut out = Vec::new();
            for l in labels {
                out.push(l.len() as u8);
                out.extend_from_slice(l.as_bytes());
            }
            out.push(0);
            out
        };
        let msg = response(
            &QUERY,
            0,
            &[
                record(
                    &name(&["API", "example"]),
                    TYPE_CNAME,
                    &name(&["a", "example"]),
                ),
                record(
                    &name(&["a", "example"]),
                    TYPE_CNAME,
                    &name(&["b", "EXAMPLE"]),
                ),
                record(&name(&["b", "example"]), TYPE_A, &[10, 0, 0, 1]),
                record(&name(&["evil", "example"]), TYPE_A, &[6, 6, 6, 6]),
                record(&TO_QNAME, TYPE_A, &[10, 0, 0, 2]),
            ],
        );
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        let want: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2"].map(|a| a.parse().unwrap()).into();
        assert_eq!(r.addresses, want);

        // A CNAME loop ends; the addresses of the names on it are still answers.
        let msg = response(
            &QUERY,
            0,
            &[
                record(&TO_QNAME, TYPE_CNAME, &name(&["a", "example"])),
                record(
                    &name(&["a", "example"]),
                    TYPE_CNAME,
                    &name(&["api", "example"]),
                ),
                record(&name(&["a", "example"]), TYPE_A, &[10, 0, 0, 3]),
            ],
        );
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        assert_eq!(r.addresses, ["10.0.0.3".parse::<IpAddr>().unwrap()]);

        // A chain longer than MAX_CNAMES stops there: the last target's address is not taken.
        let hop = |i: usize| name(&[&format!("h{i}"), "example"]);
        let mut records = vec![record(&TO_QNAME, TYPE_CNAME, &hop(0))];
        for i in 0..MAX_CNAMES {
            records.push(record(&hop(i), TYPE_CNAME, &hop(i + 1)));
        }
        records.push(record(&hop(MAX_CNAMES), TYPE_A, &[10, 0, 0, 4]));
        records.push(record(&hop(MAX_CNAMES - 1), TYPE_A, &[10, 0, 0, 5]));
        let r = parse_response(&response(&QUERY, 0, &records), 0x1234, &q).expect("ours");
        assert_eq!(r.addresses, ["10.0.0.5".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn reads_a_compressed_question_and_owner_names() {
        let q = question("api.example", TYPE_A);
        // The owner name spelled out in full, mixed case, instead of a pointer.
        let owner = b"\x03API\x07example\x00";
        let msg = response(&QUERY, 0, &[record(owner, TYPE_A, &[1, 2, 3, 4])]);
        assert_eq!(
            parse_response(&msg, 0x1234, &q).unwrap().addresses,
            ["1.2.3.4".parse::<IpAddr>().unwrap()]
        );
        // A name made of a label and a pointer to the rest, read through `Reader::name`.
        let mut buf = b"\x07example\x00".to_vec();
        buf.extend_from_slice(b"\x03api\xc0\x00");
        let mut r = Reader { msg: &buf, pos: 9 };
        assert_eq!(r.name().unwrap(), b"\x03api\x07example\x00");
        assert_eq!(r.pos, buf.len(), "the cursor stops after the pointer");
    }

    #[test]
    fn a_pointer_loop_is_malformed_not_endless() {
        let q = question("api.example", TYPE_A);
        // An owner name pointing to itself.
        let at = QUERY.len() as u8;
        let msg = response(&QUERY, 0, &[record(&[0xc0, at], TYPE_A, &[1, 2, 3, 4])]);
        assert_eq!(parse_response(&msg, 0x1234, &q), Err(Reject::Malformed));
        // Two pointers pointing at each other.
        let buf = [0xc0, 2, 0xc0, 0];
        assert_eq!(Reader { msg: &buf, pos: 0 }.name(), Err(Reject::Malformed));
        // A pointer past the end.
        let buf = [0xc0, 200];
        assert_eq!(Reader { msg: &buf, pos: 0 }.name(), Err(Reject::Malformed));
        // Labels that add up to more than 255 octets through pointers.
        let mut buf = vec![63];
        buf.extend_from_slice(&[b'a'; 63]);
        buf.extend_from_slice(&[0xc0, 0]);
        assert_eq!(Reader { msg: &buf, pos: 0 }.name(), Err(Reject::Malformed));
    }

    #[test]
    fn truncated_input_is_malformed() {
        let q = question("api.example", TYPE_A);
        let msg = response(&QUERY, 0, &[record(&TO_QNAME, TYPE_A, &[10, 0, 0, 7])]);
        for cut in 0..msg.len() {
            let got = parse_response(&msg[..cut], 0x1234, &q);
            assert_eq!(got, Err(Reject::Malformed), "cut at {cut}");
        }
        assert!(parse_response(&msg, 0x1234, &q).is_ok());
        // An rdata length past the end.
        let mut bad = msg.clone();
        let len_at = bad.len() - 6;
        bad[len_at..len_at + 2].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(parse_response(&bad, 0x1234, &q), Err(Reject::Malformed));
    }

    #[test]
    fn another_id_question_or_a_query_is_not_ours() {
        let q = question("api.example", TYPE_A);
        let msg = response(&QUERY, 0, &[record(&TO_QNAME, TYPE_A, &[10, 0, 0, 7])]);
        assert_eq!(parse_response(&msg, 0x1235, &q), Err(Reject::NotOurs));
        assert_eq!(
            parse_response(&msg, 0x1234, &question("api.example", TYPE_AAAA)),
            Err(Reject::NotOurs)
        );
        assert_eq!(
            parse_response(&msg, 0x1234, &question("www.example", TYPE_A)),
            Err(Reject::NotOurs)
        );
        // The query itself (QR clear), e.g. reflected back.
        assert_eq!(parse_response(&QUERY, 0x1234, &q), Err(Reject::NotOurs));
        // Another class.
        let mut chaos = msg.clone();
        chaos[28] = 3;
        assert_eq!(parse_response(&chaos, 0x1234, &q), Err(Reject::NotOurs));
        // The question's name in another case is the same question.
        let mut upper = msg;
        upper[13..16].copy_from_slice(b"API");
        assert!(parse_response(&upper, 0x1234, &q).is_ok());
    }

    #[test]
    fn reads_the_rcode_and_the_truncation() {
        let q = question("api.example", TYPE_A);
        for (bits, rcode) in [
            (0, Rcode::NoError),
            (1, Rcode::FormErr),
            (2, Rcode::ServFail),
            (3, Rcode::NxDomain),
            (4, Rcode::NotImp),
            (5, Rcode::Refused),
            (9, Rcode::Other(9)),
        ] {
            let msg = response(&QUERY, bits, &[]);
            let r = parse_response(&msg, 0x1234, &q).expect("our response");
            assert_eq!(r.rcode, rcode);
            assert!(r.addresses.is_empty());
        }
        assert_eq!(Rcode::Refused.name(), "Query Refused");
        assert_eq!(Rcode::ServFail.name(), "Server Failure");
        assert_eq!(Rcode::Other(15).name(), "Unknown response code");
        // TC: the answers (here cut off mid-record) are not read.
        let mut msg = response(
            &QUERY,
            FLAG_TC,
            &[record(&TO_QNAME, TYPE_A, &[10, 0, 0, 7])],
        );
        msg.truncate(msg.len() - 3);
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        assert!(r.truncated);
        assert!(r.addresses.is_empty());
    }

    #[test]
    fn skips_other_records_and_bad_address_lengths() {
        let q = question("api.example", TYPE_A);
        let msg = response(
            &QUERY,
            0,
            &[
                record(&TO_QNAME, 16, b"\x05hello"),          // TXT
                record(&TO_QNAME, TYPE_A, &[10, 0, 0, 7, 1]), // 5 octets: not an address
                record(&TO_QNAME, TYPE_A, &[10, 0, 0, 8]),
            ],
        );
        let r = parse_response(&msg, 0x1234, &q).expect("our response");
        assert_eq!(r.addresses, ["10.0.0.8".parse::<IpAddr>().unwrap()]);
    }

    /// What a server, or anything on the path that wins the race, can send: a real response
    /// with bytes changed, cut or appended. Nothing panics or loops, and an address is taken
    /// only from a record that carries one, so there are never more than the answer count.
    #[test]
    fn a_mangled_response_is_read_or_refused_never_a_panic() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let q = question("api.example", TYPE_A);
        let alias = [2, b'g', b'w', 0xc0, 12];
        let target_at = (QUERY.len() + 12 + alias.len() - 5) as u8;
        let valid = response(
            &QUERY,
            0,
            &[
                record(&TO_QNAME, TYPE_CNAME, &alias),
                record(&[0xc0, target_at], TYPE_A, &[192, 168, 1, 9]),
                record(&[0xc0, target_at], TYPE_AAAA, &[0xfd; 16]),
            ],
        );
        assert_eq!(
            parse_response(&valid, 0x1234, &q).map(|r| r.addresses.len()),
            Ok(2),
            "the unmangled response"
        );
        let edits = proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6);
        let mangled = (
            edits,
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..24),
        )
            .prop_map(move |(edits, cut, tail)| {
                let mut msg = valid.clone();
                // Keep the ID and the question most of the time, so the answers are read.
                for (at, byte) in edits {
                    let at = HEADER.saturating_sub(6) + at % (msg.len() - HEADER + 6);
                    msg[at] = byte;
                }
                msg.truncate(cut % (msg.len() + 1) + (cut & 1) * msg.len());
                msg.extend(tail);
                msg
            });
        let config = Config {
            cases: 4096,
            failure_persistence: None,
            ..Config::default()
        };
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
            .run(&mangled, |msg| {
                if let Ok(r) = parse_response(&msg, 0x1234, &q) {
                    let ancount = usize::from(u16::from_be_bytes([msg[6], msg[7]]));
                    prop_assert!(r.addresses.len() <= ancount, "{:?}", r.addresses);
                }
                Ok(())
            })
            .expect("no mangled response panics or yields more addresses than records");
    }
}
