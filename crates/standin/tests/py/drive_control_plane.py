"""Drives the stand-in control plane with Alibaba Cloud's official Python client.

The reference implementation: `alibabacloud_tea_openapi` `Client.call_api` signs every request
(V3 by default, V2 on request), and the product SDK's response model
(`<Action>ResponseBody().from_map(json)`) parses every answer. For each answer the script
reports whether the model took every key (its `to_map()` gives the answer back unchanged: a
misspelt key or a wrong wrapper does not survive), whether every value has the type the model
declares (integers stay integers), and the values at the attribute paths the caller expects.

Input (stdin): {"endpoint": "127.0.0.1:PORT", "protocol": "http"|"https", "ca": PATH|null,
  "credentials": {"access_key_id", "access_key_secret", "security_token"?},
  "steps": [CALL | ADMIN, ...]}
  CALL: {"name", "action", "version", "style": "RPC"|"ROA", "method", "pathname", "query": {},
         "body": {} (form, optional), "model": "module:Class", "expect": {"a.b[0].c": value},
         "credentials": {...} (optional), "signature_algorithm": "v2" (optional),
         "nonce": "fixed" (optional: the x-acs-signature-nonce / SignatureNonce to send)}
  ADMIN: {"name", "admin": {"method", "path", "body"}}: a request to the stand-in's admin
         endpoint between calls.
Output (stdout): a JSON list with one result per step.
"""

import importlib
import inspect
import json
import sys
import typing
import urllib.request

from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.client import Client
from alibabacloud_tea_openapi.utils import Utils
from darabonba.runtime import RuntimeOptions

_real_nonce = Utils.get_nonce


def is_model(v):
    return hasattr(v, "to_map") and hasattr(v, "from_map")


def check_value(val, ann, path, errors):
    if val is None:
        return
    if is_model(val):
        check_model(val, path, errors)
        return
    if ann is bool:
        ok = isinstance(val, bool)
    elif ann is int:
        ok = isinstance(val, int) and not isinstance(val, bool)
    elif ann is float:
        ok = isinstance(val, float)
    elif ann is str:
        ok = isinstance(val, str)
    else:
        origin = typing.get_origin(ann)
        if origin is list:
            if not isinstance(val, list):
                errors.append(f"{path}: {val!r} is not a list")
                return
            (arg,) = typing.get_args(ann) or (None,)
            for i, item in enumerate(val):
                check_value(item, arg, f"{path}[{i}]", errors)
            return
        if origin is dict:
            ok = isinstance(val, dict)
        else:
            return
    if not ok:
        errors.append(f"{path}: {val!r} is not {getattr(ann, '__name__', ann)}")


_SIMPLE = {"int": int, "bool": bool, "str": str, "float": float}


def annotations(cls):
    """The constructor's parameter types; the SDK modules use postponed (string) annotations."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # a forward reference the module cannot resolve
        hints = {}
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        ann = hints.get(name, p.annotation)
        if isinstance(ann, str):
            ann = _SIMPLE.get(ann) or (
                typing.List[_SIMPLE[ann[5:-1]]]
                if ann.startswith("List[") and ann[5:-1] in _SIMPLE
                else dict if ann.startswith("Dict[") else None
            )
        out[name] = ann
    return out


def check_model(model, path, errors):
    for name, ann in annotations(type(model)).items():
        check_value(getattr(model, name, None), ann, f"{path}.{name}", errors)


def diff(a, b, path, out):
    """Where the model's to_map() (b) differs from the answer (a)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"{path}.{k}: not a field of the model")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
        for k in b:
            if k not in a:
                out.append(f"{path}.{k}: added by the model")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {a!r} became {b!r}")


def attr_path(obj, path):
    for part in path.split("."):
        name, _, rest = part.partition("[")
        obj = getattr(obj, name)
        while rest:
            idx, _, rest = rest.partition("]")
            obj = obj[int(idx)]
            rest = rest.lstrip("[")
    return obj


def client_for(spec, creds, algorithm):
    cfg = open_api_models.Config(
        access_key_id=creds["access_key_id"],
        access_key_secret=creds["access_key_secret"],
        security_token=creds.get("security_token"),
        endpoint=spec["endpoint"],
        protocol=spec.get("protocol", "http"),
    )
    if algorithm:
        cfg.signature_algorithm = algorithm
    return Client(cfg)


def admin(spec, step):
    a = step["admin"]
    scheme = spec.get("protocol", "http")
    url = f"{scheme}://{spec['endpoint']}{a['path']}"
    data = json.dumps(a["body"]).encode() if "body" in a else None
    req = urllib.request.Request(url, data=data, method=a.get("method", "POST"))
    ctx = None
    if scheme == "https":
        import ssl

        ctx = ssl.create_default_context(cafile=spec.get("ca"))
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return {"name": step.get("name"), "admin": True, "status": r.status}


def call(spec, step):
    creds = step.get("credentials") or spec["credentials"]
    c = client_for(spec, creds, step.get("signature_algorithm"))
    params = open_api_models.Params(
        action=step["action"],
        version=step["version"],
        protocol=spec.get("protocol", "http").upper(),
        pathname=step.get("pathname", "/"),
        method=step.get("method", "POST"),
        auth_type="AK",
        style=step.get("style", "RPC"),
        req_body_type="formData" if step.get("style", "RPC") == "RPC" else "json",
        body_type="json",
    )
    req = open_api_models.OpenApiRequest(query=step.get("query") or {})
    if step.get("body"):
        req.body = step["body"]
    runtime = RuntimeOptions(
        autoretry=False, max_attempts=0, read_timeout=10000, connect_timeout=5000
    )
    if spec.get("ca"):
        runtime.ca = spec["ca"]
    if step.get("nonce"):
        Utils.get_nonce = staticmethod(lambda: step["nonce"])
    try:
        resp = c.call_api(params, req, runtime)
    except Exception as e:  # the SDK's ClientException / ServerException / ThrottlingException
        return {
            "name": step.get("name"),
            "ok": False,
            "exception": type(e).__name__,
            "code": getattr(e, "code", None),
            "status": getattr(e, "status_code", None) or getattr(e, "statusCode", None),
            "message": str(getattr(e, "message", e)),
            "data": getattr(e, "data", None),
            "retry_after": getattr(e, "retry_after", None),
            "access_denied_detail": getattr(e, "access_denied_detail", None),
        }
    finally:
        Utils.get_nonce = _real_nonce
    body = resp["body"]
    out = {"name": step.get("name"), "ok": True, "status": resp.get("statusCode"), "body": body}
    if step.get("model"):
        module, cls = step["model"].split(":")
        model = getattr(importlib.import_module(module), cls)().from_map(body)
        differences = []
        diff(body, model.to_map(), "", differences)
        out["not_roundtripped"] = differences
        type_errors = []
        check_model(model, cls, type_errors)
        out["type_errors"] = type_errors
        mismatches = []
        for path, want in (step.get("expect") or {}).items():
            try:
                got = attr_path(model, path)
            except (AttributeError, IndexError, TypeError) as e:
                mismatches.append(f"{path}: {e}")
                continue
            if is_model(got):
                got = got.to_map()
            if got != want or type(got) is not type(want):
                mismatches.append(f"{path}: {got!r} != {want!r}")
        out["mismatches"] = mismatches
    return out


def main():
    spec = json.load(sys.stdin)
    results = []
    for step in spec["steps"]:
        results.append(admin(spec, step) if "admin" in step else call(spec, step))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
