"""Checks each SLS template in deploy/sls/ against the official SLS SDK's request models.

Each template is `{"action", "version", "about", "sources", "body"}`; `body` is what the API
takes (CreateIndex/UpdateIndex: the index; CreateSavedSearch, CreateAlert: the request body).
Its `{{PLACEHOLDERS}}` are filled with example values, then the body is loaded with the model's
`from_map` and written back with `to_map` (alibabacloud_sls20201230, API version 2020-12-30):
the SDK keeps only the keys it knows, in the nesting it knows, so the round trip equals the body
exactly when every key name and nesting level is one the official SDK sends. Every attribute the
SDK's models mark "This parameter is required." must be set. Prints one line per template, `ok
<file>` or `MISMATCH <file>: <what>`, and exits 1 on any mismatch.

Usage: python check_sls_templates.py <dir>
"""
import inspect
import json
import pathlib
import re
import sys

from alibabacloud_sls20201230 import models
from model_diff import diff

EXAMPLE = {
    "SLS_PROJECT": "serverless-cn-shanghai-0123abcd",
    "SLS_LOGSTORE": "default-logs",
    "SLS_REGION": "cn-shanghai",
    "ACTION_POLICY_ID": "sls.builtin.cn",
}

# The model of each action's body (the SDK wraps CreateIndex's body in CreateIndexRequest.body).
MODELS = {
    "CreateIndex": models.Index,
    "CreateSavedSearch": models.CreateSavedSearchRequest,
    "CreateAlert": models.CreateAlertRequest,
}

# Alert rule names as the alerting docs give them.
ALERT_NAME = re.compile(r"^[0-9a-z][0-9a-z_-]{0,62}[0-9a-z]$")


def required(cls):
    """The attributes the SDK's model source marks as required."""
    src = inspect.getsource(cls.__init__)
    return re.findall(r"This parameter is required\.\n(?:\s*#.*\n)*\s*self\.(\w+) =", src)


def missing(model, path=""):
    """Required attributes left unset, in `model` and the models it holds."""
    out = [f"{path}.{a}" for a in required(type(model)) if getattr(model, a, None) is None]
    for name, value in vars(model).items():
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if hasattr(child, "to_map") and hasattr(child, "from_map"):
                out += missing(child, f"{path}.{name}[{i}]")
    return out


def render(text):
    for name, value in EXAMPLE.items():
        text = text.replace("{{" + name + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", text)
    return text, left


def check(path):
    raw = path.read_text()
    text, left = render(raw)
    if left:
        return [f"unknown placeholders {sorted(set(left))}"]
    doc = json.loads(text)
    problems = []
    if doc.get("version") != "2020-12-30":
        problems.append(f"version {doc.get('version')!r}")
    if not doc.get("sources"):
        problems.append("no sources")
    model_cls = MODELS.get(doc.get("action"))
    if model_cls is None:
        return problems + [f"unknown action {doc.get('action')!r}"]
    body = doc["body"]
    model = model_cls().from_map(body)
    model.validate()
    problems += [f"not in the SDK model: {p}" for p in diff(body, model.to_map())]
    problems += [f"required but unset: {p}" for p in missing(model)]
    if doc["action"] == "CreateAlert":
        if not ALERT_NAME.match(body.get("name", "")):
            problems.append(f"alert name {body.get('name')!r}")
        if not 4 <= len(body.get("displayName", "").encode()) <= 100:
            problems.append("displayName length")
        if len(body.get("description", "").encode()) > 256:
            problems.append("description longer than 256 bytes")
        if len(body.get("configuration", {}).get("queryList", [])) > 3:
            problems.append("more than 3 queries")
    return problems


def main():
    directory = pathlib.Path(sys.argv[1])
    failed = False
    files = sorted(directory.glob("*.json"))
    if not files:
        print(f"MISMATCH {directory}: no templates")
        sys.exit(1)
    for path in files:
        problems = check(path)
        if problems:
            failed = True
            print(f"MISMATCH {path.name}: {'; '.join(problems)}")
        else:
            print(f"ok {path.name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
