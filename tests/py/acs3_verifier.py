"""A loopback OpenAPI endpoint whose V3 signature check is Alibaba's own code.

The reference for the Rust signer (tests/openapi.rs): every request is verified by recomputing
`Authorization` with `alibabacloud_openapi_util.client.Client.get_authorization` (the official
util, PyPI alibabacloud_openapi_util 0.2.4) over exactly the headers the request lists in
`SignedHeaders`, after the checks of spec control-plane.md §1.7:

1. `Authorization` is `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=<64 hex>`,
   else IncompleteSignature;
2. `SignedHeaders` holds host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
   x-acs-content-sha256, and x-acs-security-token when that header is present, else
   IncompleteSignature;
3. `x-acs-content-sha256` is hex(sha256(body)), else SignatureDoesNotMatch;
4. the AccessKeyId is known (InvalidAccessKeyId.NotFound), an STS key comes with its token
   (MissingSecurityToken / InvalidSecurityToken.MismatchWithAccessKey);
5. `x-acs-date` within 15 minutes (InvalidTimeStamp.Expired), nonce not seen before
   (SignatureNonceUsed);
6. the signature equals the recomputed one, else SignatureDoesNotMatch whose Message echoes the
   canonical request the way Alibaba echoes its string to sign (it holds the token: the client
   must cut it).

A verified request is answered 200 with the documented response body of its action, from the
fixtures directory (`<Action>.json`, key `body`), or `{"RequestId": …}` for an action without a
fixture. RPC is routed on `x-acs-action`, FC's ROA `GetFunction` on `GET
/2023-03-30/functions/<name>` (answered with an `x-fc-request-id` header, its body has no
RequestId). Errors use the documented envelope {"RequestId","HostId","Code","Message",
"Recommend"} (spec §8).

Prints `PORT <n>` once listening on 127.0.0.1 (port 0: the kernel picks), then one JSON line per
request: action, method, path, decoded query, signed headers, whether the token was signed, and
the verdict (`code` is null when verified).

Usage: python acs3_verifier.py <keys-json> <fixtures-dir>
  keys-json: {"<AccessKeyId>": {"secret": "...", "token": "..." or null}, ...}
"""
import datetime
import hashlib
import hmac
import json
import pathlib
import re
import sys
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

from alibabacloud_openapi_util.client import Client as Util
from Tea.request import TeaRequest

ALGORITHM = "ACS3-HMAC-SHA256"
AUTH = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=(?P<ak>[^,]+),SignedHeaders=(?P<sh>[^,]+),Signature=(?P<sig>[0-9a-f]{64})$"
)
MANDATORY = {
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
}
ROA_GET_FUNCTION = re.compile(r"^/2023-03-30/functions/[^/]+$")

KEYS = json.loads(sys.argv[1])
FIXTURES = pathlib.Path(sys.argv[2])
SEEN_NONCES = set()


class Refused(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def verify(log, method, raw_path, headers, body):
    """Fills the log entry `log`; raises Refused when the request is not authentic."""
    path, _, raw_query = raw_path.partition("?")
    # Decoded, as the server sees it; get_authorization encodes again (quote(v, safe='~')).
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    log.update({"method": method, "path": path, "query": query})
    m = AUTH.match(headers.get("authorization", ""))
    if not m:
        raise Refused(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
    signed = m.group("sh").split(";")
    log["signed_headers"] = signed
    log["token_signed"] = "x-acs-security-token" in signed
    required = set(MANDATORY)
    if "x-acs-security-token" in headers:
        required.add("x-acs-security-token")
    if not required.issubset(signed) or signed != sorted(signed):
        raise Refused(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
    payload = headers.get("x-acs-content-sha256", "")
    if payload != hashlib.sha256(body).hexdigest():
        raise Refused(400, "SignatureDoesNotMatch", "x-acs-content-sha256 is not the body's hash.")
    ak = m.group("ak")
    key = KEYS.get(ak)
    if key is None:
        raise Refused(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    token = headers.get("x-acs-security-token")
    if key.get("token") and token is None:
        raise Refused(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
    if key.get("token") and token != key["token"]:
        raise Refused(400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey.")
    try:
        date = datetime.datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise Refused(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
    skew = abs((datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - date).total_seconds())
    if skew > 15 * 60:
        raise Refused(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
    request = TeaRequest()
    request.method = method
    request.pathname = path
    request.query = query
    request.headers = {name: headers.get(name) for name in signed}
    expected = Util.get_authorization(request, ALGORITHM, payload, ak, key["secret"])
    if not hmac.compare_digest(expected, headers["authorization"]):
        # Alibaba echoes its string to sign here; this echoes the canonical request, which
        # holds every signed header (the token too): the client must not keep it.
        canonical = "\n".join(
            [method, path, raw_query]
            + [f"{n}:{(headers.get(n) or '').strip()}" for n in signed]
            + ["", ";".join(signed), payload]
        )
        raise Refused(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:" + canonical,
        )
    nonce = headers["x-acs-signature-nonce"]
    if nonce in SEEN_NONCES:
        raise Refused(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
    SEEN_NONCES.add(nonce)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # stdout is the request log, stderr stays quiet
        pass

    def handle_one(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        action = headers.get("x-acs-action")
        request_id = str(uuid.uuid4()).upper()
        entry = {"action": action}
        extra = {}
        try:
            verify(entry, self.command, self.path, headers, body)
            path = entry["path"]
            if self.command == "GET" and ROA_GET_FUNCTION.match(path):
                fixture = "GetFunction"
                extra["x-fc-request-id"] = request_id
            else:
                fixture = action
            file = FIXTURES / f"{fixture}.json"
            answer = json.loads(file.read_text(encoding="utf-8"))["body"] if file.exists() else {"RequestId": request_id}
            status = 200
            entry["code"] = None
        except Refused as r:
            status = r.status
            entry["code"] = r.code
            answer = {
                "RequestId": request_id,
                "HostId": headers.get("host", ""),
                "Code": r.code,
                "Message": r.message,
                "Recommend": f"https://api.aliyun.com/troubleshoot?q={r.code}&requestId={request_id}",
            }
        print(json.dumps(entry, ensure_ascii=False), flush=True)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_one


def main():
    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
