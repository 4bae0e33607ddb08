#!/usr/bin/env python3
"""`make bench`: the function against the one it replaces and against blackbox_exporter.

Starts the stand-in backend and three peers on 127.0.0.1, measures cold start, invocation cost,
probe throughput, memory and accuracy, and writes a Markdown report (BENCHMARKS.md) whose every
number comes from this run. Standard library only; needs curl, wrk and
prometheus-blackbox-exporter (the Makefile installs them).

Peers:
- ours:  `<bin> serve` (the FC custom runtime), target via APIGW_URL / `?url=`;
- seed:  bench/seed_curl_runtime.py (Python + a curl process per invocation), target via APIGW_URL;
- blackbox_exporter with bench/blackbox.yml (module http_2xx), target via `?target=`;
- curl:  `curl -w` alone, the reference for what the network path costs.

All of them call the same URL, an IP literal (http://127.0.0.1:<port>/...): nobody resolves a
name, so no peer is charged for a DNS server the others do not ask.

Every loop is bounded in count and time; all traffic stays on 127.0.0.1.
"""

import argparse
import datetime
import http.client
import io
import json
import os
import platform
import re
import shutil
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = os.path.join(HERE, "seed_curl_runtime.py")
BLACKBOX_CONFIG = os.path.join(HERE, "blackbox.yml")
LOOPBACK = "127.0.0.1"
CURL_WRITE_OUT = (
    '{"status":%{http_code},"dns":%{time_namelookup},"connect":%{time_connect},'
    '"pretransfer":%{time_pretransfer},"ttfb":%{time_starttransfer},"total":%{time_total}}'
)
# Upper bound for anything that waits on a peer.
STEP_TIMEOUT = 10.0


# ---------------------------------------------------------------- small helpers


def now():
    return time.perf_counter()


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Stats:
    """Median, min and max of a list of numbers."""

    def __init__(self, values):
        self.values = [v for v in values if v is not None]

    @property
    def ok(self):
        return bool(self.values)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def min(self):
        return min(self.values) if self.values else float("nan")

    @property
    def max(self):
        return max(self.values) if self.values else float("nan")

    def fmt(self, digits=2, unit=""):
        if not self.values:
            return "n/a"
        return (
            f"{self.median:.{digits}f}{unit} ({self.min:.{digits}f}–{self.max:.{digits}f}, "
            f"n={len(self.values)})"
        )


def ratio(a, b):
    if not a or not b or a != a or b != b:
        return "n/a"
    return f"{a / b:.2f}×"


class Stamped(io.RawIOBase):
    """The socket under http.client's response reader; notes when the last bytes arrived."""

    def __init__(self, sock):
        super().__init__()
        # A counted reference (makefile): http.client closes its own handle on the socket as
        # soon as the head says `Connection: close`, and the body is read after that.
        self.raw = sock.makefile("rb", buffering=0)
        self.last = None

    def readable(self):
        return True

    def readinto(self, b):
        n = self.raw.readinto(b)
        if n:
            self.last = now()
        return n

    def close(self):
        self.raw.close()
        super().close()


class StampedResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # http.client's own reader, replaced before anything was read
        self.stamped = Stamped(sock)
        self.fp = io.BufferedReader(self.stamped)


class Connection(http.client.HTTPConnection):
    """http.client with the request in one write and a clock around the exchange.

    - One write: http.client writes the head and the body separately; on loopback each write
      wakes the peer, and the second one would cost ours (and the seed) a read that no real
      caller makes them do. curl sends a small body with its head.
    - The clock: `started` just before the TCP connect, `done` when the response's last bytes
      arrived (http.client reads exactly the Content-Length, or to the last chunk). Building the
      request before the connect and parsing the response head in Python after its bytes came in
      (≈ 0.2 ms of this runner's CPU per call) stay outside; so does close.
    """

    response_class = StampedResponse
    pending = b""
    started = None

    def connect(self):
        self.started = now()
        super().connect()  # TCP_NODELAY, as every client here

    def send(self, data):
        self.pending += data

    def getresponse(self):
        if self.pending:
            data, self.pending = self.pending, b""
            super().send(data)
        return super().getresponse()


class Response:
    def __init__(self, status, headers, body, started, done):
        self.status, self.headers, self.body = status, headers, body
        # ms from just before the TCP connect to the response's last byte (Connection).
        self.wall_ms = (done - started) * 1000
        self.done = done


def request(port, method, path, body=None, timeout=STEP_TIMEOUT, rid="bench"):
    """One request on a fresh connection to 127.0.0.1:`port`, read to its end (chunked bodies
    decoded by http.client), the connection then closed. See Connection for what `wall_ms` holds.
    """
    conn = Connection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request(
            method,
            path,
            body=body,
            headers={
                "x-fc-request-id": rid,
                "Content-Type": "application/octet-stream",
                "Connection": "close",
            },
        )
        resp = conn.getresponse()
        payload = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, headers, payload, conn.started, resp.stamped.last)
    finally:
        conn.close()


def wait_tcp(port, deadline, interval=0.0002, proc=None):
    """Connects every `interval` s until the port accepts; returns the time it did."""
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return now()
        except OSError:
            if now() > deadline:
                raise TimeoutError(f"port {port} not accepting")
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"peer exited with {proc.returncode}")
            time.sleep(interval)


def proc_status(pid):
    """VmRSS and VmHWM of a process in MiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def tree_pids(pid):
    pids = [pid]
    i = 0
    while i < len(pids) and i < 10000:
        p = pids[i]
        i += 1
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    pids.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def tree_rss(pid):
    return sum(proc_status(p).get("VmRSS", 0.0) for p in tree_pids(pid))


# ---------------------------------------------------------------- peers


class Peer:
    """A server process on a free loopback port."""

    def __init__(self, name, argv, env, port):
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.proc = None

    def spawn(self):
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.proc

    def start(self):
        self.spawn()
        wait_tcp(self.port, now() + STEP_TIMEOUT, interval=0.001, proc=self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIGW_", "FC_"))}
    env.pop("RUST_LOG", None)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    return env


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        # The stand-in's command; every stand-in process the runner starts begins with it.
        self.standin = shlex.split(args.standin) if args.standin else [self.bin, "standin"]
        self.backend = None
        self.results = {}

    # peers --------------------------------------------------------------

    def ours(self):
        port = free_port()
        env = base_env()
        env.update(
            FC_CUSTOM_LISTEN_PORT=str(port),
            APIGW_URL=self.url("/web/cloudapi"),
            APIGW_ALLOW_HOSTS=LOOPBACK,
        )
        env.update(kv.split("=", 1) for kv in self.args.ours_env)
        return Peer("ours", [self.bin, "serve"], env, port)

    def seed(self):
        port = free_port()
        env = base_env()
        env.update(FC_CUSTOM_LISTEN_PORT=str(port), APIGW_URL=self.url("/web/cloudapi"))
        return Peer("seed", [self.args.python, SEED], env, port)

    def blackbox(self):
        port = free_port()
        argv = [
            self.args.blackbox,
            f"--config.file={BLACKBOX_CONFIG}",
            f"--web.listen-address={LOOPBACK}:{port}",
            "--log.level=warn",
        ]
        return Peer("blackbox", argv, base_env(), port)

    def url(self, path):
        return f"http://{LOOPBACK}:{self.backend_port}{path}"

    def start_backend(self):
        argv = self.standin + ["backend", "--listen", f"{LOOPBACK}:0"]
        self.backend = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            env=base_env(), text=True,
        )
        line = self.backend.stdout.readline()
        if not line:
            raise RuntimeError(f"the stand-in backend ({shlex.join(argv)}) exited before listening")
        self.backend_port = int(json.loads(line)["listen"].rsplit(":", 1)[1])
        log(f"stand-in backend on {LOOPBACK}:{self.backend_port}")

    def stop_backend(self):
        if self.backend and self.backend.poll() is None:
            self.backend.send_signal(signal.SIGTERM)
            try:
                self.backend.wait(timeout=STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.backend.kill()
                self.backend.wait()

    # one probe per peer --------------------------------------------------

    def invoke(self, peer, body=b"{}", rid="bench"):
        return request(peer.port, "POST", "/invoke", body, rid=rid)

    def curl(self, url):
        # Timed: spawning curl, its whole run (the request on a fresh connection), its exit and
        # this runner's wait for it; curl's own -w times come back in the JSON it prints.
        t0 = now()
        out = subprocess.run(
            [self.args.curl, "-s", "-o", "/dev/null", "-m", "5", "-w", CURL_WRITE_OUT, url],
            capture_output=True, text=True, timeout=STEP_TIMEOUT,
        )
        wall = now() - t0
        if out.returncode != 0:
            raise RuntimeError(f"curl exit {out.returncode}")
        return wall, json.loads(out.stdout)

    def blackbox_probe(self, peer, url):
        q = urllib.parse.urlencode({"target": url, "module": "http_2xx"})
        resp = request(peer.port, "GET", f"/probe?{q}")
        metrics = {}
        for line in resp.body.decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            metrics[name] = float(value)
        return resp.status, metrics

    # measurements --------------------------------------------------------

    def exec_floor(self, runs):
        """spawn+wait of /bin/true: what this runner's spawn itself costs."""
        vals = []
        for _ in range(runs):
            t0 = now()  # timed: fork+exec of /bin/true, its exit, this runner's wait
            subprocess.run(["/bin/true"])
            vals.append((now() - t0) * 1000)
        return Stats(vals)

    def cold_start(self):
        runs = self.args.cold_runs
        log(f"cold start: {runs} runs per peer (+1 warm-up)")
        res = {"ours": {"tcp": [], "invoke": []}, "seed": {"tcp": [], "invoke": []}}
        makers = {"ours": self.ours, "seed": self.seed}
        for i in range(runs + 1):
            for name, make in makers.items():
                peer = make()
                # Timed from just before the spawn: to the first accepted TCP connect (polled,
                # so up to one interval late), and to the last byte of the first /invoke's
                # response (Connection).
                t0 = now()
                proc = peer.spawn()
                try:
                    t_tcp = wait_tcp(peer.port, t0 + STEP_TIMEOUT, proc=proc)
                    resp = self.invoke(peer, rid=f"cold-{i}")
                    status, t_inv = resp.status, resp.done
                finally:
                    peer.stop()
                if status != 200:
                    raise RuntimeError(f"{name}: first /invoke answered {status}")
                if i > 0:
                    res[name]["tcp"].append((t_tcp - t0) * 1000)
                    res[name]["invoke"].append((t_inv - t0) * 1000)
        self.results["cold"] = {
            name: {k: Stats(v) for k, v in d.items()} for name, d in res.items()
        }
        self.results["exec_floor"] = self.exec_floor(max(5, runs))

    def invocation(self):
        runs = self.args.invoke_runs
        log(f"invocation: {runs} per peer, interleaved")
        ours, seed = self.ours().start(), self.seed().start()
        target = self.url("/web/cloudapi")
        walls = {"ours": [], "seed": [], "curl": []}
        ours_dur, ours_total, seed_curl_total, curl_total = [], [], [], []
        try:
            for p in (ours, seed):  # warm: lazily built state, page cache
                self.invoke(p)
            self.curl(target)
            for i in range(runs):
                # Wall: connect → the response's last byte (Connection).
                resp = self.invoke(ours, rid=f"inv-{i}")
                walls["ours"].append(resp.wall_ms)
                if resp.status != 200:
                    raise RuntimeError(f"ours /invoke answered {resp.status}: {resp.body[:300]!r}")
                report = json.loads(resp.body)
                ours_dur.append(report["duration_ms"])
                ours_total.append(report["targets"][0]["samples"][0]["phases_ms"]["total"])

                resp = self.invoke(seed, rid=f"inv-{i}")
                walls["seed"].append(resp.wall_ms)
                if resp.status != 200:
                    raise RuntimeError(f"seed /invoke answered {resp.status}")
                seed_curl_total.append(json.loads(resp.body)["total"] * 1000)

                wall, w = self.curl(target)
                walls["curl"].append(wall * 1000)
                curl_total.append(w["total"] * 1000)
        finally:
            ours.stop()
            seed.stop()
        self.results["invoke"] = {
            "wall": {k: Stats(v) for k, v in walls.items()},
            "ours_duration": Stats(ours_dur),
            "ours_total": Stats(ours_total),
            "seed_curl_total": Stats(seed_curl_total),
            "curl_total": Stats(curl_total),
            # Work of the prober around the timed path: plan the target, build the request,
            # assemble the report, log the result.
            "ours_around": Stats([d - t for d, t in zip(ours_dur, ours_total)]),
            # Each invocation and its curl run back to back: the ratio cancels load drift.
            "paired": Stats([d / c for d, c in zip(ours_dur, curl_total) if c > 0]),
        }

    def wrk(self, port, path, conns, seconds):
        threads = min(conns, 2)
        argv = [
            self.args.wrk, "-c", str(conns), "-t", str(threads), "-d", f"{seconds}s",
            "--timeout", "5s", "-H", "Connection: close", f"http://{LOOPBACK}:{port}{path}",
        ]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        total = int(re.search(r"(\d+) requests in", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        errors = (int(non2xx.group(1)) if non2xx else 0) + (
            sum(int(x) for x in errs.groups()) if errs else 0
        )
        lat = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
        avg_ms = None
        if lat:
            avg_ms = float(lat.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[lat.group(2)]
        return {"rps": rps, "requests": total, "errors": errors, "avg_ms": avg_ms}

    def throughput(self):
        secs, reps = self.args.wrk_seconds, self.args.wrk_repeats
        levels = self.args.concurrency
        log(f"throughput: wrk {secs}s × {reps} at concurrency {levels}")
        ours, bb = self.ours().start(), self.blackbox().start()
        target = self.url("/web/cloudapi")
        paths = {
            "ours": "/probe?" + urllib.parse.urlencode({"url": target}),
            "blackbox": "/probe?" + urllib.parse.urlencode({"target": target, "module": "http_2xx"}),
        }
        res = {name: {c: [] for c in levels} for name in paths}
        try:
            resp = request(ours.port, "GET", paths["ours"])
            if resp.status != 200:
                raise RuntimeError(f"ours /probe answered {resp.status}: {resp.body[:300]!r}")
            status, metrics = self.blackbox_probe(bb, target)
            if status != 200 or metrics.get("probe_success") != 1.0:
                raise RuntimeError(f"blackbox probe failed: {status} {metrics}")
            for c in levels:
                for _ in range(reps):
                    for name, peer in (("ours", ours), ("blackbox", bb)):
                        res[name][c].append(self.wrk(peer.port, paths[name], c, secs))
        finally:
            ours.stop()
            bb.stop()
        self.results["throughput"] = res

    def memory(self):
        rounds = self.args.mem_rounds
        log(f"memory: idle, then 100 concurrent invocations × {rounds}")
        slow = self.url("/delay/100")
        res = {}
        for name, make in (("ours", self.ours), ("seed", self.seed), ("blackbox", self.blackbox)):
            peer = make().start()
            try:
                time.sleep(0.3)
                idle_start = proc_status(peer.pid)
                # One invocation: the state built on first use (resolver, buffers) is counted.
                if name == "blackbox":
                    one = lambda i: self.blackbox_probe(peer, slow)[0]  # noqa: E731
                else:
                    body = json.dumps({"url": slow}).encode()
                    one = lambda i: self.invoke(peer, body, rid=f"mem-{i}").status  # noqa: E731
                if one(0) != 200:
                    raise RuntimeError(f"{name}: invocation failed")
                time.sleep(0.3)
                idle_warm = proc_status(peer.pid)
                peak_tree = [0.0]
                stop = threading.Event()

                def sample():
                    while not stop.is_set():
                        peak_tree[0] = max(peak_tree[0], tree_rss(peer.pid))
                        time.sleep(0.005)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                statuses = []
                for r in range(rounds):
                    barrier = threading.Barrier(100, timeout=STEP_TIMEOUT)

                    def worker(i, barrier=barrier):
                        try:
                            barrier.wait()
                            statuses.append(one(i))
                        except Exception as e:  # noqa: BLE001 - counted as a failure below
                            statuses.append(type(e).__name__)

                    ts = [threading.Thread(target=worker, args=(r * 100 + i,)) for i in range(100)]
                    for t in ts:
                        t.start()
                    for t in ts:
                        t.join(STEP_TIMEOUT * 2)
                stop.set()
                sampler.join()
                loaded = proc_status(peer.pid)
                res[name] = {
                    "idle_start_rss": idle_start.get("VmRSS"),
                    "idle_start_hwm": idle_start.get("VmHWM"),
                    "idle_warm_rss": idle_warm.get("VmRSS"),
                    "loaded_hwm": loaded.get("VmHWM"),
                    "loaded_tree_peak": peak_tree[0],
                    "ok": sum(1 for s in statuses if s == 200),
                    "failed": sorted(
                        {str(s): statuses.count(s) for s in statuses if s != 200}.items()
                    ),
                    "n": len(statuses),
                }
            finally:
                peer.stop()
        self.results["memory"] = res

    def accuracy(self):
        runs = self.args.accuracy_runs
        delay = 50
        log(f"accuracy: /delay/{delay}, {runs} runs per peer")
        url = self.url(f"/delay/{delay}")
        ours, bb = self.ours().start(), self.blackbox().start()
        keys = ("dns", "connect", "first_byte", "total")
        res = {p: {k: [] for k in keys} for p in ("ours", "curl", "blackbox")}
        try:
            body = json.dumps({"url": url}).encode()
            for i in range(runs):
                resp = self.invoke(ours, body, rid=f"acc-{i}")
                if resp.status != 200:
                    raise RuntimeError(f"ours: {resp.status}")
                ph = json.loads(resp.body)["targets"][0]["samples"][0]["phases_ms"]
                r = res["ours"]
                r["dns"].append(ph["dns"])
                r["connect"].append(ph["connect"])
                r["first_byte"].append(ph["dns"] + ph["connect"] + ph["tls"] + ph["send"] + ph["ttfb"])
                r["total"].append(ph["total"])

                _, w = self.curl(url)
                r = res["curl"]
                r["dns"].append(w["dns"] * 1000)
                r["connect"].append((w["connect"] - w["dns"]) * 1000)
                r["first_byte"].append(w["ttfb"] * 1000)
                r["total"].append(w["total"] * 1000)

                status, m = self.blackbox_probe(bb, url)
                if status != 200 or m.get("probe_success") != 1.0:
                    raise RuntimeError("blackbox probe failed")
                phase = lambda p: m.get(f'probe_http_duration_seconds{{phase="{p}"}}', 0.0) * 1000  # noqa: E731
                r = res["blackbox"]
                r["dns"].append(phase("resolve"))
                r["connect"].append(phase("connect"))
                r["first_byte"].append(phase("resolve") + phase("connect") + phase("tls") + phase("processing"))
                r["total"].append(sum(phase(p) for p in ("resolve", "connect", "tls", "processing", "transfer")))
        finally:
            ours.stop()
            bb.stop()
        self.results["accuracy"] = {"delay": delay, "data": {p: {k: Stats(v) for k, v in d.items()} for p, d in res.items()}}

    def sizes(self):
        size = os.path.getsize(self.bin)
        pkg = self.args.package
        if pkg and os.path.exists(pkg):
            pkg_size, pkg_note = os.path.getsize(pkg), os.path.relpath(pkg, ROOT)
        else:
            with tempfile.TemporaryDirectory() as d:
                z = os.path.join(d, "pkg.zip")
                with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                    zf.write(self.bin, "bootstrap")
                pkg_size = os.path.getsize(z)
            pkg_note = "the binary as `bootstrap` in a deflate zip made by the runner"
        bb = shutil.which(self.args.blackbox) or self.args.blackbox
        self.results["sizes"] = {
            "ours_bin": size,
            "ours_pkg": pkg_size,
            "ours_pkg_note": pkg_note,
            "seed_py": os.path.getsize(SEED),
            "blackbox_bin": os.path.getsize(bb),
            "curl_bin": os.path.getsize(shutil.which(self.args.curl) or self.args.curl),
        }

    # report --------------------------------------------------------------

    def versions(self):
        def first(argv):
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (out.stdout or out.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "?"

        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
        os_name = "?"
        try:
            with open("/etc/os-release") as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        os_name = line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return {
            "machine": f"{cpu}, {os.cpu_count()} CPUs, {mem} MiB RAM",
            "os": f"{os_name}, Linux {platform.release()}",
            "ours": first([self.bin, "--version"]),
            "python": first([self.args.python, "--version"]),
            "curl": " ".join(first([self.args.curl, "--version"]).split()[:2]),
            "blackbox": first([self.args.blackbox, "--version"]),
            "wrk": first([self.args.wrk, "-v"]).split(" Copyright")[0],
            "rustc": first(["rustc", "--version"]),
        }

    def markdown(self, meta):
        r = self.results
        L = []
        add = L.append
        add("# Benchmarks")
        add("")
        add("<!-- Written by `make bench` (bench/run.py). Every number below comes from that run; do not edit by hand. -->")
        add("")
        add(f"Run {meta['date']} {'(quick mode: few repetitions, smoke only) ' if self.args.quick else ''}"
            f"in {meta['elapsed']:.0f} s.")
        add("")
        v = meta["versions"]
        add("| | |")
        add("|---|---|")
        add(f"| machine | {v['machine']} |")
        add(f"| OS | {v['os']} |")
        add(f"| load average (1, 5, 15 min) | at start {meta['load_start']}; at end {meta['load_end']} |")
        add(f"| binary measured | `{os.path.relpath(self.bin, ROOT)}` ({self.args.bin_label}) — {v['ours']} |")
        add(f"| rustc | {v['rustc']} |")
        add(f"| seed peer | `bench/seed_curl_runtime.py` on {v['python']}, {v['curl']} |")
        add(f"| blackbox_exporter | {v['blackbox']}, `bench/blackbox.yml` module `http_2xx` |")
        add(f"| load generator | {v['wrk']} |")
        add("")
        standin = " ".join([os.path.basename(self.standin[0])] + self.standin[1:])
        add(f"Target for every peer: the stand-in backend (`{standin} backend`) on "
            "127.0.0.1 by IP literal (`http://127.0.0.1:<port>/web/cloudapi`): no peer resolves a name, "
            "so none pays for a DNS server the others do not ask (ours runs with "
            "`APIGW_ALLOW_HOSTS=127.0.0.1`). All peers log as they would in production (ours: JSON "
            "lines at `info`; the seed: FC markers), to /dev/null. Figures are median (min–max, n).")
        if meta.get("load_note"):
            add("")
            add(meta["load_note"])
        add("")

        goals = []
        # Cold start
        if "cold" in r:
            c = r["cold"]
            add("## Cold start")
            add("")
            add("From spawn to the port accepting a TCP connection (FC's readiness check), and to the "
                "first `POST /invoke` answered 200 (one probe of the backend). Connect polled every "
                f"0.2 ms; a fresh process per run, runs interleaved; a warm-up run first is not counted. "
                f"For scale: spawn+wait of `/bin/true` from this runner is {r['exec_floor'].fmt(2, ' ms')}.")
            add("")
            add("| | TCP ready (ms) | first /invoke 200 (ms) |")
            add("|---|---|---|")
            for name in ("ours", "seed"):
                add(f"| {name} | {c[name]['tcp'].fmt()} | {c[name]['invoke'].fmt()} |")
            add(f"| **seed ÷ ours** | {ratio(c['seed']['tcp'].median, c['ours']['tcp'].median)} | "
                f"{ratio(c['seed']['invoke'].median, c['ours']['invoke'].median)} |")
            add("")
            m = c["ours"]["invoke"].median
            goals.append(("cold start ≤ 5 ms (spawn → first /invoke answered)", f"{m:.2f} ms "
                          f"(TCP ready {c['ours']['tcp'].median:.2f} ms)", m <= 5.0))

        if "invoke" in r:
            i = r["invoke"]
            w = i["wall"]
            add("## Invocation")
            add("")
            add("One probe of `/web/cloudapi` per invocation, a fresh connection each, sequential, "
                "peers interleaved. *Wall* is what the caller sees (runner's clock, TCP connect → the "
                "response's last byte). `curl` alone is the command `curl -s -o /dev/null -w … URL` (spawn → "
                "exit) and curl's own `time_total` (the network path as curl measures it).")
            add("")
            add("| | median (min–max, n) ms |")
            add("|---|---|")
            add(f"| ours: `POST /invoke` wall | {w['ours'].fmt(3)} |")
            add(f"| ours: the prober's own time (`duration_ms` in the report) | {i['ours_duration'].fmt(3)} |")
            add(f"| ours: the sample's `phases_ms.total` | {i['ours_total'].fmt(3)} |")
            add(f"| ours: `duration_ms` − `phases_ms.total` (planning, request building, report, log) | {i['ours_around'].fmt(3)} |")
            add(f"| seed: `POST /invoke` wall | {w['seed'].fmt(3)} |")
            add(f"| seed: its curl's `time_total` | {i['seed_curl_total'].fmt(3)} |")
            add(f"| curl alone: command wall (spawn → exit) | {w['curl'].fmt(3)} |")
            add(f"| curl alone: `time_total` | {i['curl_total'].fmt(3)} |")
            add("")
            ct = i["curl_total"].median
            over = i["ours_duration"].median / ct - 1 if ct else float("nan")
            add("| ratio | |")
            add("|---|---|")
            add(f"| seed wall ÷ ours wall | {ratio(w['seed'].median, w['ours'].median)} |")
            add(f"| ours wall ÷ curl command wall | {ratio(w['ours'].median, w['curl'].median)} |")
            add(f"| ours wall ÷ curl `time_total` | {ratio(w['ours'].median, ct)} "
                f"(+{w['ours'].median - ct:.3f} ms: the trigger hop, JSON and report) |")
            add(f"| ours prober (`duration_ms`) ÷ curl `time_total` | {ratio(i['ours_duration'].median, ct)} "
                f"({over * 100:+.1f} %) |")
            add(f"| the same, median of the {len(i['paired'].values)} back-to-back pairs | "
                f"{i['paired'].median:.2f}× ({(i['paired'].median - 1) * 100:+.1f} %) |")
            add(f"| ours reported `phases_ms.total` ÷ curl `time_total` (the path as each measures it) | "
                f"{ratio(i['ours_total'].median, ct)} |")
            add("")
            goals.append(("probe overhead over curl ≤ 10 % (the prober's `duration_ms` vs curl's "
                          "`time_total`, same request, both in a running process)",
                          f"{over * 100:+.1f} % ({i['ours_duration'].median:.3f} vs {ct:.3f} ms; "
                          f"paired {(i['paired'].median - 1) * 100:+.1f} %); "
                          f"end to end through `/invoke` {w['ours'].median:.3f} ms vs the curl command "
                          f"{w['curl'].median:.3f} ms", over <= 0.10))

        if "throughput" in r:
            t = r["throughput"]
            add("## Probe throughput (HTTP trigger)")
            add("")
            add(f"`wrk -c N -t min(N,2) -d {self.args.wrk_seconds}s -H 'Connection: close'` (a fresh "
                "connection per probe, and each probe opens a fresh connection to the backend) against "
                "ours `GET /probe?url=…` and blackbox_exporter `GET /probe?target=…&module=http_2xx`; "
                f"{self.args.wrk_repeats} run(s) per cell, peers alternating. Probes/s; errors = non-2xx + "
                "socket errors over all runs. wrk, the peer and the backend share the 2 CPUs.")
            add("")
            add("| concurrency | ours probes/s | blackbox probes/s | ours ÷ blackbox | ours avg latency | blackbox avg latency | errors ours / blackbox |")
            add("|---|---|---|---|---|---|---|")
            wins = []
            for c in self.args.concurrency:
                o = Stats([x["rps"] for x in t["ours"][c]])
                b = Stats([x["rps"] for x in t["blackbox"][c]])
                ol = Stats([x["avg_ms"] for x in t["ours"][c]])
                bl = Stats([x["avg_ms"] for x in t["blackbox"][c]])
                oe = sum(x["errors"] for x in t["ours"][c])
                be = sum(x["errors"] for x in t["blackbox"][c])
                add(f"| {c} | {o.fmt(0)} | {b.fmt(0)} | {ratio(o.median, b.median)} | "
                    f"{ol.median:.2f} ms | {bl.median:.2f} ms | {oe} / {be} |")
                wins.append((c, o.median, b.median))
            add("")
            goals.append(("more probes/s than blackbox_exporter at every concurrency",
                          ", ".join(f"c{c}: {o:.0f} vs {b:.0f}" for c, o, b in wins),
                          all(o > b for _, o, b in wins)))

        if "memory" in r:
            m = r["memory"]
            add("## Memory")
            add("")
            add("From `/proc/<pid>/status`, MiB. *Idle*: 0.3 s after the port accepts; *warm idle*: "
                "after one invocation. *Under load*: 100 invocations at once (a barrier releases 100 "
                f"client threads), {self.args.mem_rounds} round(s), each probing `/delay/100` so that all "
                "100 are in flight together: VmHWM of the process, and the peak sum of VmRSS over the "
                "process and its children sampled every 5 ms (the seed forks one curl per invocation). "
                "blackbox_exporter is driven through its `/probe`. A client gives up after "
                f"{STEP_TIMEOUT:.0f} s (TimeoutError); the seed's server is Python's "
                "ThreadingHTTPServer, whose listen backlog is socketserver's default of 5.")
            add("")
            add("| | idle VmRSS | idle VmHWM | warm idle VmRSS | under load VmHWM | under load, process tree peak | load answered 200 |")
            add("|---|---|---|---|---|---|---|")
            for name in ("ours", "seed", "blackbox"):
                x = m[name]
                add(f"| {name} | {x['idle_start_rss']:.1f} | {x['idle_start_hwm']:.1f} | "
                    f"{x['idle_warm_rss']:.1f} | {x['loaded_hwm']:.1f} | {x['loaded_tree_peak']:.1f} | "
                    f"{x['ok']}/{x['n']}"
                    + "".join(f", {n} × {k}" for k, n in x["failed"]) + " |")
            o = m["ours"]
            add(f"| **seed ÷ ours** | {ratio(m['seed']['idle_start_rss'], o['idle_start_rss'])} | "
                f"{ratio(m['seed']['idle_start_hwm'], o['idle_start_hwm'])} | "
                f"{ratio(m['seed']['idle_warm_rss'], o['idle_warm_rss'])} | "
                f"{ratio(m['seed']['loaded_hwm'], o['loaded_hwm'])} | "
                f"{ratio(m['seed']['loaded_tree_peak'], o['loaded_tree_peak'])} | |")
            add(f"| **blackbox ÷ ours** | {ratio(m['blackbox']['idle_start_rss'], o['idle_start_rss'])} | "
                f"{ratio(m['blackbox']['idle_start_hwm'], o['idle_start_hwm'])} | "
                f"{ratio(m['blackbox']['idle_warm_rss'], o['idle_warm_rss'])} | "
                f"{ratio(m['blackbox']['loaded_hwm'], o['loaded_hwm'])} | "
                f"{ratio(m['blackbox']['loaded_tree_peak'], o['loaded_tree_peak'])} | |")
            add("")
            idle = max(o["idle_start_hwm"], o["idle_warm_rss"])
            goals.append(("idle RSS ≤ 8 MB (the larger of idle VmHWM and warm idle VmRSS)",
                          f"{idle:.1f} MiB", idle <= 8.0))

        if "sizes" in r:
            s = r["sizes"]
            add("## Size")
            add("")
            add("| | bytes | MiB |")
            add("|---|---|---|")
            add(f"| ours: binary (`{os.path.relpath(self.bin, ROOT)}`) | {s['ours_bin']} | {s['ours_bin'] / 2**20:.2f} |")
            add(f"| ours: package ({s['ours_pkg_note']}) | {s['ours_pkg']} | {s['ours_pkg'] / 2**20:.2f} |")
            add(f"| seed: `seed_curl_runtime.py` (needs a Python runtime and curl in the image) | {s['seed_py']} | {s['seed_py'] / 2**20:.3f} |")
            add(f"| blackbox_exporter binary | {s['blackbox_bin']} | {s['blackbox_bin'] / 2**20:.2f} |")
            add(f"| curl binary (without libcurl) | {s['curl_bin']} | {s['curl_bin'] / 2**20:.3f} |")
            add("")

        if "accuracy" in r:
            a = r["accuracy"]
            d = a["data"]
            add("## Accuracy")
            add("")
            add(f"The backend's `/delay/{a['delay']}` waits {a['delay']} ms before its response head. "
                "Each peer probes it once per run, interleaved. Marks are cumulative from the start of "
                "the sample: *dns* (0 for an IP literal), *connect* (TCP handshake alone), *first byte* "
                "(start → first response byte; curl `time_starttransfer`; ours dns+connect+tls+send+ttfb; "
                "blackbox resolve+connect+tls+processing), *total*. Δ is the median minus curl's median.")
            add("")
            add("| ms | ours | curl -w | blackbox_exporter | Δ ours | Δ blackbox |")
            add("|---|---|---|---|---|---|")
            for k in ("dns", "connect", "first_byte", "total"):
                o, c, b = d["ours"][k], d["curl"][k], d["blackbox"][k]
                add(f"| {k.replace('_', ' ')} | {o.fmt(3)} | {c.fmt(3)} | {b.fmt(3)} | "
                    f"{o.median - c.median:+.3f} | {b.median - c.median:+.3f} |")
            add("")

        add("## Goals")
        add("")
        add("| goal | measured | met |")
        add("|---|---|---|")
        for g, measured, met in goals:
            add(f"| {g} | {measured} | {'yes' if met else '**no**'} |")
        add("")
        notes = os.path.join(HERE, "NOTES.md")
        if os.path.exists(notes) and not self.args.quick:
            add("## What was tried for speed")
            add("")
            add(f"See [bench/NOTES.md](bench/NOTES.md) (kept by hand; the tables above are this run's).")
            add("")
        return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the apigw-vpc-probe binary to measure")
    ap.add_argument("--bin-label", default="release build", help="how the binary was built")
    ap.add_argument("--standin", default="", metavar="COMMAND",
                    help="the stand-in's command (a binary, with arguments if any), to which the "
                    "runner appends e.g. `backend --listen …` (default: `<--bin> standin`)")
    ap.add_argument("--package", default="", help="the deployment package (zip), if built")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--quick", action="store_true", help="few repetitions: a smoke test")
    # The seed peer runs on the Debian python3 (what a custom.debian12 image would have).
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
    ap.add_argument("--curl", default="curl")
    ap.add_argument("--wrk", default="wrk")
    ap.add_argument("--blackbox", default="prometheus-blackbox-exporter")
    ap.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for ours (experiments, e.g. RUST_LOG=warn)")
    ap.add_argument("--runs", type=int, default=0, help="runs per peer of cold start, invocation and accuracy (experiments)")
    ap.add_argument("--only", default="", help="comma-separated: cold,invoke,throughput,memory,accuracy")
    args = ap.parse_args()
    args.cold_runs = 5 if args.quick else 41
    args.invoke_runs = 20 if args.quick else 200
    args.wrk_seconds = 1 if args.quick else 5
    args.wrk_repeats = 1 if args.quick else 3
    args.concurrency = [1, 10, 100]
    args.mem_rounds = 1 if args.quick else 3
    args.accuracy_runs = 5 if args.quick else 30
    # After every default it overrides: it once came before accuracy_runs and never reached it.
    if args.runs:
        args.cold_runs = args.invoke_runs = args.accuracy_runs = args.runs
    for tool in (args.curl, args.wrk, args.blackbox, args.python):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found (make bench installs it)")
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"bench: {args.bin} is not an executable")
    if args.standin and not shutil.which(shlex.split(args.standin)[0]):
        sys.exit(f"bench: the stand-in {args.standin} is not an executable")

    b = Bench(args)
    only = set(filter(None, args.only.split(",")))
    want = lambda k: not only or k in only  # noqa: E731
    started = now()
    load_start = loadavg()
    log(f"load average {load_start}; binary {args.bin}")
    b.start_backend()
    try:
        if want("cold"):
            b.cold_start()
        if want("invoke"):
            b.invocation()
        if want("memory"):
            b.memory()
        if want("throughput"):
            b.throughput()
        if want("accuracy"):
            b.accuracy()
        b.sizes()
    finally:
        b.stop_backend()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed": now() - started,
        "load_start": load_start,
        "load_end": loadavg(),
        "versions": b.versions(),
    }
    la = max(float(x) for x in (load_start.split()[0], meta["load_end"].split()[0]))
    if la > 0.5:
        meta["load_note"] = (f"**Note:** the 1-minute load average was up to {la:.2f} on "
                             f"{os.cpu_count()} CPUs during this run: other work shared the machine, "
                             "so these numbers are noisier (and slower) than on a quiet machine.")
    text = b.markdown(meta)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    log(f"wrote {args.out} in {meta['elapsed']:.0f} s")


if __name__ == "__main__":
    main()
