"""Checks each response fixture in tests/fixtures/openapi/ against the official SDK's model.

For every fixture that names an `sdk_model`, the body is loaded with the model's `from_map` and
written back with `to_map`: the SDK keeps only the keys it knows, in the nesting it knows, so the
round trip equals the body (up to empty lists the SDK adds) exactly when every key name, list wrapper and nesting level of the
fixture is one the official SDK reads. Prints one line per fixture, `ok <file>` or
`MISMATCH <file>: <paths>`, and exits 1 on any mismatch.

Usage: python check_fixtures.py <dir>
"""
import importlib
import json
import pathlib
import sys

from model_diff import diff


def main():
    failed = False
    for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
        fixture = json.loads(path.read_text(encoding="utf-8"))
        model = fixture.get("sdk_model")
        if not model:
            continue
        module, cls = model.rsplit(".", 1)
        body = fixture["body"]
        back = getattr(importlib.import_module(module), cls)().from_map(body).to_map()
        problems = diff(body, back)
        if problems:
            failed = True
            print(f"MISMATCH {path.name}: {', '.join(problems)}")
        else:
            print(f"ok {path.name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
