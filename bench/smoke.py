#!/usr/bin/env python3
"""`make bench-smoke`: bench/run.py end to end with the fewest repetitions, then checks its output.

Every step runs (cold start, also with an https target; invocation, also https; memory; the
concurrent invocations, here 20 instead of 1,000; throughput, also https over TLS 1.3 and 1.2;
metrics scrapes; the signed path; the cross-check and its faults; accuracy; sizes) against the
real binary and its peers, the JSON is written and the Markdown rendered from it; then this checks the
shape, not the numbers (`make bench` is where they count): every section is there, every count
in the JSON and the tables is the run's (`--runs` reaches every step it names), the JSON's
summaries are its samples', `render` gives the same Markdown again from the JSON alone, and a
changed JSON changes the rendered figures and verdicts.

Skips, saying so, when a peer's tool is missing (as root, `make bench-smoke` installs them first).
Standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run.py")
TOOLS = ("curl", "wrk", "prometheus-blackbox-exporter", "openssl")
# Not a default of any step (quick mode: 5, 20, 5), so a count that ignores --runs shows.
RUNS = 2
STEPS = ["cold", "cold_https", "invoke", "https_invoke", "memory", "c1000", "throughput",
         "https_throughput", "scrapes", "signed", "crosscheck", "accuracy", "sizes"]
SECTIONS = ["## Cold start", "## Cold start, https target", "## Invocation",
            "## Invocation, https", "## Probe throughput (HTTP trigger)",
            "## Probe throughput, https", "## Memory", "## Metrics scrapes", "## The signed path",
            "## The cross-check's cost", "## Size", "## Accuracy", "## Goals"]
# Every goal the render step judges, by the start of its text.
GOALS = ["cold start ≤", "probe overhead over curl", "more probes/s than blackbox", "idle RSS",
         "binary ≤", "cold start with an https target", "https probe overhead", "https probes/s ≥",
         "the signature costs", "C concurrent invocations", "more metrics scrapes/s",
         "a slow, hanging or unreachable control plane"]
# The concurrent-invocations step's clients (1,000 in `make bench`).
C1000 = 20


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def section(md, title):
    """The text of one `## ` section, without its title."""
    rest = md.split(title + "\n", 1)
    check(len(rest) == 2, f"{title} missing")
    return rest[1].split("\n## ", 1)[0]


def rows(text):
    """A section's table rows (after the header and the |---| line), as lists of cells."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def check_measurement(m, n, where):
    check(len(m["samples"]) == n, f"{where}: {len(m['samples'])} samples, expected {n}")
    s, vals = m["summary"], [v for v in m["samples"] if v is not None]
    check(s["n"] == len(vals), f"{where}: summary n {s['n']} vs {len(vals)} samples")
    if vals:
        check((s["median"], s["min"], s["max"]) == (statistics.median(vals), min(vals), max(vals)),
              f"{where}: summary {s} is not its samples'")


def check_json(doc, clients, levels):
    check(doc["schema"] == 1, f"schema {doc['schema']}")
    check(doc["run"]["steps"] == STEPS, f"steps {doc['run']['steps']}")
    p, r = doc["params"], doc["results"]
    for k in ("cold_runs", "invoke_runs", "accuracy_runs"):
        check(p[k] == RUNS, f"params.{k} = {p[k]}, --runs {RUNS}")
    for peer in ("ours", "seed"):
        for k in ("tcp_ready", "first_invoke"):
            check_measurement(r["cold"][peer][k], RUNS, f"cold.{peer}.{k}")
    check_measurement(r["cold"]["ours"]["first_probe"], RUNS, "cold.ours.first_probe")
    check_measurement(r["cold"]["exec_floor"], max(5, RUNS), "cold.exec_floor")
    if shutil.which("cc"):  # bench/floor.c is built with it
        for k in ("tcp_ready", "first_invoke"):
            check_measurement(r["cold"]["floor"][k], RUNS, f"cold.floor.{k}")
    check(len(r["invoke"]) == 7, f"invoke: {sorted(r['invoke'])}")
    for k, m in r["invoke"].items():
        check_measurement(m, RUNS, f"invoke.{k}")
    for peer in ("ours", "seed", "blackbox"):
        x = r["memory"][peer]
        check(x["invocations"] == clients * p["mem_rounds"], f"memory.{peer}: {x['invocations']}")
        check(x["answered_200"] + sum(x["failed"].values()) == x["invocations"], f"memory.{peer}")
        check(all(x[k] > 0 for k in x if k.endswith("_mib")), f"memory.{peer}: {x}")
    for peer in ("ours", "blackbox"):
        cells = r["throughput"][peer]
        check([c["concurrency"] for c in cells] == levels, f"throughput.{peer}: {cells}")
        for c in cells:
            check_measurement(c["probes_per_s"], p["wrk_repeats"], f"throughput.{peer}")
            check(all(n > 0 for n in c["requests"]), f"throughput.{peer}: no requests")
    for peer in ("ours", "curl", "blackbox"):
        for k in ("dns", "connect", "first_byte", "total"):
            check_measurement(r["accuracy"][peer][k], RUNS, f"accuracy.{peer}.{k}")
    for k in ("tcp_ready", "first_invoke", "first_probe", "first_tls"):
        check_measurement(r["cold_https"][k], RUNS, f"cold_https.{k}")
    check(len(r["https_invoke"]) == 5, f"https_invoke: {sorted(r['https_invoke'])}")
    for k, m in r["https_invoke"].items():
        check_measurement(m, RUNS, f"https_invoke.{k}")
    check(sorted(r["https_throughput"]) == ["tls1.2", "tls1.3"], f"{sorted(r['https_throughput'])}")
    for version, t in r["https_throughput"].items():
        for peer in ("ours", "blackbox"):
            check([c["concurrency"] for c in t[peer]] == levels, f"https {version} {peer}")
            for c in t[peer]:
                check_measurement(c["probes_per_s"], p["wrk_repeats"], f"https {version} {peer}")
                for cpu in ("cpu_ms_per_probe", "backend_cpu_ms_per_probe",
                            "machine_cpu_ms_per_probe"):
                    check_measurement(c[cpu], p["wrk_repeats"], f"https {version} {peer} {cpu}")
                check(c.get("threads", 0) >= 1, f"https {version} {peer}: threads {c.get('threads')}")
                check(all(n > 0 for n in c["requests"]), f"https {version} {peer}: no requests")
    for peer in ("ours", "blackbox", "ours_json"):
        cells = r["scrapes"][peer]
        check([c["concurrency"] for c in cells] == p["scrape_concurrency"], f"scrapes.{peer}")
        check(all(n > 0 for c in cells for n in c["requests"]), f"scrapes.{peer}: no requests")
    # bench/run.py runs SIGNED_PAIRS_PER_REPEAT (10) pairs per repeat, of runs at most 1 s long.
    pairs = 10 * p["wrk_repeats"]
    check(0 < r["signed"]["run_seconds"] <= min(1, p["wrk_seconds"]), "signed.run_seconds")
    for k in ("signed", "unsigned"):
        cell = r["signed"][k][0]
        check_measurement(cell["cpu_ms_per_probe"], pairs, f"signed.{k}.cpu")
        check(all(n > 0 for n in cell["requests"]), f"signed.{k}: no requests")
    check_measurement(r["signed"]["paired_cpu_share"], pairs, "signed.paired_cpu_share")
    for peer in ("ours", "blackbox", "seed"):
        x = r["c1000"][peer]
        check(x["invocations"] == C1000 and x["loaded_hwm_mib"] > 0, f"c1000.{peer}: {x}")
    check(r["c1000"]["ours"]["answered_200"] == C1000, f"c1000.ours: {r['c1000']['ours']}")
    cc = r["crosscheck"]
    for k in ("with_wall", "without_wall", "check_duration"):
        check_measurement(cc[k], RUNS, f"crosscheck.{k}")
    check(sorted(cc["faults"]) == ["hanging", "slow", "unreachable"], f"faults {cc['faults']}")
    for fault, x in cc["faults"].items():
        check_measurement(x["wall"], p["fault_runs"], f"crosscheck.faults.{fault}")
        check(all(v for v in x["verdicts"]), f"crosscheck.faults.{fault}: {x['verdicts']}")
    check(all(v > 0 for k, v in r["sizes"].items() if k.endswith(("_binary", "_package", "_script"))),
          f"sizes: {r['sizes']}")


def check_markdown(md, levels):
    for title in SECTIONS:
        section(md, title)
    n = f"n={RUNS})"
    for title in ("## Cold start", "## Invocation"):
        check(n in section(md, title), f"{title}: no {n}")
    # The accuracy step once read its count before --runs was applied: every cell must carry it.
    acc = rows(section(md, "## Accuracy"))
    check([row[0] for row in acc] == ["dns", "connect", "first byte", "total"], f"accuracy rows {acc}")
    for row in acc:
        check(all(cell.endswith(n) for cell in row[1:4]), f"accuracy row without {n}: {row}")
    thr = rows(section(md, "## Probe throughput (HTTP trigger)"))
    check([int(row[0]) for row in thr] == levels, f"throughput rows {thr}")
    check(all(row[3].endswith("×") for row in thr), f"throughput ratios {thr}")
    mem = rows(section(md, "## Memory"))
    check([row[0] for row in mem] == ["ours", "seed", "blackbox", "**seed ÷ ours**",
                                      "**blackbox ÷ ours**"], f"memory rows {mem}")
    goals = rows(section(md, "## Goals"))
    names = [g.replace("C concurrent", f"{C1000} concurrent") for g in GOALS]
    matched = [next((n for n in names if row[0].startswith(n)), row[0]) for row in goals]
    check(sorted(matched) == sorted(names), f"goals {[row[0] for row in goals]}, expected {names}")
    check(all(row[2] in ("yes", "**no**") for row in goals), f"goals {goals}")


def render(json_path, out):
    subprocess.run([sys.executable, RUNNER, "render", json_path, "--out", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(out) as f:
        return f.read()


def check_render(tmp, json_path, md):
    again = render(json_path, os.path.join(tmp, "again.md"))
    check(again == md, "render of the saved JSON differs from the run's Markdown")
    # Figures and verdicts come from the JSON: a slower cold start there is a missed goal here.
    with open(json_path) as f:
        doc = json.load(f)
    m = doc["results"]["cold"]["ours"]["first_invoke"]
    m["samples"] = [99.0] * len(m["samples"])
    changed = os.path.join(tmp, "changed.json")
    with open(changed, "w") as f:
        json.dump(doc, f)
    goal = [row for row in rows(section(render(changed, os.path.join(tmp, "changed.md")),
                                        "## Goals")) if row[0].startswith("cold start ≤")]
    check(len(goal) == 1 and goal[0][1].startswith("99.00 ms") and goal[0][2] == "**no**",
          f"the cold-start goal does not follow the JSON: {goal}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the apigw-vpc-probe binary")
    ap.add_argument("--standin", default="", help="as bench/run.py --standin")
    args = ap.parse_args()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        print(f"SKIPPED (bench smoke): needs {', '.join(missing)} (make bench-smoke installs them "
              "when run as root)")
        return
    clients, levels = 10, [10]  # memory's clients; throughput's (and https's) concurrency
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
        json_path, md_path = os.path.join(tmp, "run.json"), os.path.join(tmp, "run.md")
        argv = [sys.executable, RUNNER, "--bin", args.bin, "--quick", "--runs", str(RUNS),
                "--concurrency", ",".join(map(str, levels)), "--mem-clients", str(clients),
                "--c1000-clients", str(C1000), "--scrape-concurrency", "10",
                "--json", json_path, "--out", md_path]
        if args.standin:
            argv += ["--standin", args.standin]
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            sys.exit(f"bench smoke: bench/run.py failed ({run.returncode}):\n{run.stdout}")
        with open(json_path) as f:
            doc = json.load(f)
        with open(md_path) as f:
            md = f.read()
        try:
            check_json(doc, clients, levels)
            check_markdown(md, levels)
            check_render(tmp, json_path, md)
        except AssertionError as e:
            sys.exit(f"bench smoke: {e}\n--- {md_path}:\n{md}")
    print(f"bench smoke: ok (every step, the JSON and its render; --runs {RUNS}) "
          f"in {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
