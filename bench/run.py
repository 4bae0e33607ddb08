#!/usr/bin/env python3
"""`make bench`: the function against the one it replaces and against blackbox_exporter.

Starts the stand-in backend and three peers on 127.0.0.1, measures cold start, invocation cost,
probe throughput, memory and accuracy, and writes every measured sample to a JSON file
(BENCHMARKS.json: machine, load, versions, parameters, and per measurement its samples and
summary). The Markdown report (BENCHMARKS.md) is rendered from that JSON alone: medians, ratios
and goal verdicts are computed by the render step, never typed in.
`bench/run.py render BENCHMARKS.json` re-renders a saved run without measuring. Standard library
only; needs curl, wrk and prometheus-blackbox-exporter (the Makefile installs them).

Peers:
- ours:  `<bin> serve` (the FC custom runtime), target via APIGW_URL / `?url=`;
- seed:  bench/seed_curl_runtime.py (Python + a curl process per invocation), target via APIGW_URL;
- blackbox_exporter with bench/blackbox.yml (module http_2xx), target via `?target=`;
- curl:  `curl -w` alone, the reference for what the network path costs.

All of them call the same URL, an IP literal (http://127.0.0.1:<port>/...): nobody resolves a
name, so no peer is charged for a DNS server the others do not ask.

Issue 14's steps add: https (the stand-in backend over TLS 1.3 or 1.2 only, with a test CA made
by openssl in a temp dir at run time; ours with APIGW_CA_FILE, blackbox with a generated module
`https_2xx` whose tls_config.ca_file is that CA), the signed path (stand-in DNS and gateway
processes, ours' modules `signed`/`unsigned`), 1,000 concurrent invocations, metrics scrapes,
the control-plane cross-check (`apigw-standin all`, faults through its admin endpoint), and cold
start with an https target. bench/NOTES.md says how each is set up.

Every loop is bounded in count and time; all traffic stays on 127.0.0.1.
"""

import argparse
import datetime
import http.client
import io
import json
import math
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
# The backend's delay for the accuracy step, and for the memory step's invocations (long enough
# for all of them to be in flight at once).
ACCURACY_DELAY_MS = 50
MEM_DELAY_MS = 100
# wait_tcp's poll interval in the cold-start step.
CONNECT_POLL_S = 0.0002
# Version of the JSON's layout (`schema`); render refuses another.
SCHEMA = 1
# The 1,000-invocation step: the backend answers after 1 s, so that all of them are in flight
# together; ours admits the clients plus this many connections (APIGW_MAX_CONNECTIONS).
C1000_DELAY_MS = 1000
C1000_HEADROOM = 24
# The signed path: pairs of runs (unsigned, signed) per `wrk_repeats`, each run this long
# (at most `wrk_seconds`). A pair's difference spreads about ±10 % on this machine whatever the
# length (5 s runs spread as much as 1 s ones): more, shorter pairs narrow the median more.
SIGNED_PAIRS_PER_REPEAT = 10
SIGNED_SECONDS = 1
# The signed path: the stand-in gateway's group, region and app (stand-in values, no secret).
SIGN_GROUP = "5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e"
SIGN_REGION = "cn-shanghai"
SIGN_APP_KEY = "204180520"
SIGN_APP_SECRET = "stand-in-app-secret-0f3b"
# The cross-check: the stand-in's demo world (crates/standin/src/lib.rs): its group whose VPC
# domain is disabled, its account, the role's stand-in STS credentials; FC's timeout for the
# invocation and the function's margin (APIGW_BUDGET_MARGIN_MS, default) give the deadline.
CROSS_DISABLED_GROUP = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
CROSS_ACCOUNT_ID = "1234567890123456"
CROSS_STS = ("STS.NUstandinDemoRole01", "stand-in-sts-secret-5b9e", "CAIS.stand-in/demo+token=")
CROSS_FC_TIMEOUT_S = 3
CROSS_MARGIN_MS = 500
# The slow control plane's delay per call.
CROSS_SLOW_MS = 1500


# ---------------------------------------------------------------- small helpers


def now():
    return time.perf_counter()


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


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

    def median_interval(self, level=0.95):
        """A distribution-free interval of the median at `level` (order statistics of the
        sorted values, binomial with p = ½); None for fewer than 6 values."""
        v, n = sorted(self.values), len(self.values)
        k, below = 0, 0.0  # below: P(Binomial(n, ½) < k + 1)
        while True:
            p_next = below + math.comb(n, k) / 2 ** n
            if p_next > (1 - level) / 2:
                break
            below, k = p_next, k + 1
        return (v[k - 1], v[n - k]) if k > 0 else None

    def fmt(self, digits=2, unit=""):
        if not self.values:
            return "n/a"
        return (
            f"{self.median:.{digits}f}{unit} ({self.min:.{digits}f}–{self.max:.{digits}f}, "
            f"n={len(self.values)})"
        )


def measured(samples, unit):
    """A measurement as the JSON holds it: every sample, in run order, and their summary."""
    st = Stats(samples)
    summary = {"n": len(st.values), "median": None, "min": None, "max": None}
    if st.ok:
        summary.update(median=st.median, min=st.min, max=st.max)
    return {"unit": unit, "samples": list(samples), "summary": summary}


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


def request(port, method, path, body=None, timeout=STEP_TIMEOUT, rid="bench", headers=None):
    """One request on a fresh connection to 127.0.0.1:`port`, read to its end (chunked bodies
    decoded by http.client), the connection then closed. See Connection for what `wall_ms` holds.
    `headers` are added to FC's request id and the content type.
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
                **(headers or {}),
            },
        )
        resp = conn.getresponse()
        payload = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, headers, payload, conn.started, resp.stamped.last)
    finally:
        conn.close()


def wait_tcp(port, deadline, interval=CONNECT_POLL_S, proc=None):
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
    """VmRSS and VmHWM of a process in MiB, and its number of Threads."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) / 1024.0
                elif line.startswith("Threads:"):
                    out["Threads"] = int(line.split()[1])
    except OSError:
        pass
    return out


# How proc_cpu_ms reads a process's CPU time, as the report names it.
CPU_SOURCE = "its CPU-time clock, `clock_gettime`, ns"


def proc_cpu_ms(pid):
    """User + system CPU time of a process so far (every thread, exited ones too), in ms: its
    CPU-time clock, read with clock_gettime in ns (a 1 s run's clock ticks would be 1 % steps),
    else /proc/<pid>/stat in clock ticks."""
    try:
        # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) of the kernel's posix-cpu-timers.
        return time.clock_gettime_ns(((~pid) << 3) | 2) / 1e6
    except OSError:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def machine_busy_ms():
    """CPU time every CPU of the machine has spent busy so far (user, nice, system, irq and
    softirq of /proc/stat's first line; not idle, iowait or steal), in ms. A run's busy time less
    the processes it names is what the rest of the machine (wrk, the kernel's work outside those
    processes) cost, which bounds what a peer can reach on the same CPUs."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) * 1000.0 / os.sysconf("SC_CLK_TCK")


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

    def __init__(self, name, argv, env, port, cpus=None):
        self.name, self.argv, self.env, self.port = name, argv, env, port
        # The CPUs the process may use (its affinity), or None for this runner's.
        self.cpus = cpus
        self.proc = None

    def spawn(self):
        # The child inherits the affinity this runner has at the spawn: set it for that moment
        # only (a `taskset` in argv would add an exec to what a cold start measures).
        mine = os.sched_getaffinity(0) if self.cpus else None
        if mine:
            os.sched_setaffinity(0, self.cpus)
        try:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            if mine:
                os.sched_setaffinity(0, mine)
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
        # The run's files (test CA, certificates, blackbox's config), removed at the end.
        self.tmp = tempfile.mkdtemp(prefix="apigw-bench-")
        self._tls = None
        self._tls_backends = {}
        self._tls_backend_pids = {}
        self._blackbox_config = None
        self.standins = []

    # peers --------------------------------------------------------------

    def ours(self, extra_env=(), cpus=None):
        port = free_port()
        env = base_env()
        env.update(
            FC_CUSTOM_LISTEN_PORT=str(port),
            APIGW_URL=self.url("/web/cloudapi"),
            APIGW_ALLOW_HOSTS=LOOPBACK,
            # The load steps hold 100 connections at once, beyond the default limit of 64
            # (which answers the rest 503): measure the server's capacity, not its refusals.
            APIGW_MAX_CONNECTIONS="1000",
        )
        env.update(kv.split("=", 1) for kv in self.args.ours_env)
        env.update(kv.split("=", 1) for kv in extra_env)
        return Peer("ours", [self.bin, "serve"], env, port, cpus=cpus)

    def floor_bin(self):
        """The cold-start floor (bench/floor.c), built with the system's C compiler into the
        run's temp dir; None when there is none or the build fails (the step then measures ours
        and the seed only)."""
        cc = shutil.which("cc")
        out = os.path.join(self.tmp, "floor")
        if cc and subprocess.run([cc, "-O2", "-static", "-o", out, os.path.join(HERE, "floor.c")],
                                 capture_output=True).returncode == 0:
            return out
        log("no C compiler built bench/floor.c: the cold start has no floor row")
        return None

    def floor(self, binary):
        port = free_port()
        env = base_env()
        env.update(FC_CUSTOM_LISTEN_PORT=str(port))
        return Peer("floor", [binary], env, port)

    def seed(self):
        port = free_port()
        env = base_env()
        env.update(FC_CUSTOM_LISTEN_PORT=str(port), APIGW_URL=self.url("/web/cloudapi"))
        return Peer("seed", [self.args.python, SEED], env, port)

    def blackbox(self):
        port = free_port()
        argv = [
            self.args.blackbox,
            f"--config.file={self.blackbox_config()}",
            f"--web.listen-address={LOOPBACK}:{port}",
            "--log.level=warn",
        ]
        return Peer("blackbox", argv, base_env(), port)

    def blackbox_config(self):
        """bench/blackbox.yml plus `https_2xx`: the same module with the run's test CA."""
        if self._blackbox_config is None:
            with open(BLACKBOX_CONFIG) as f:
                text = f.read().rstrip("\n") + "\n"
            text += (
                "  https_2xx:\n    prober: http\n    timeout: 5s\n    http:\n"
                "      method: GET\n      valid_status_codes: []\n"
                "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n"
                "      follow_redirects: false\n      fail_if_not_ssl: true\n"
                f"      tls_config:\n        ca_file: {self.tls()['ca']}\n"
                "        insecure_skip_verify: false\n")
            self._blackbox_config = os.path.join(self.tmp, "blackbox.yml")
            with open(self._blackbox_config, "w") as f:
                f.write(text)
        return self._blackbox_config

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

    def curl(self, url, cacert=None):
        # Timed: spawning curl, its whole run (the request on a fresh connection), its exit and
        # this runner's wait for it; curl's own -w times come back in the JSON it prints.
        tls = ["--cacert", cacert] if cacert else []
        t0 = now()
        out = subprocess.run(
            [self.args.curl, "-s", "-o", "/dev/null", "-m", "5", *tls, "-w", CURL_WRITE_OUT, url],
            capture_output=True, text=True, timeout=STEP_TIMEOUT,
        )
        wall = now() - t0
        if out.returncode != 0:
            raise RuntimeError(f"curl exit {out.returncode}")
        return wall, json.loads(out.stdout)

    def blackbox_probe(self, peer, url, module="http_2xx"):
        q = urllib.parse.urlencode({"target": url, "module": module})
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
        return measured(vals, "ms")

    def cold_start(self):
        runs = self.args.cold_runs
        log(f"cold start: {runs} runs per peer (+1 warm-up)")
        makers = {"ours": self.ours, "seed": self.seed}
        if len(os.sched_getaffinity(0)) > 1:
            # As FC's `cpu: 0.1` function: ours may use one CPU (and shares it with the runner).
            makers["ours_one_cpu"] = lambda: self.ours(cpus={min(os.sched_getaffinity(0))})
        floor = self.floor_bin()
        if floor is not None:
            makers["floor"] = lambda: self.floor(floor)
        res = {name: {"tcp": [], "invoke": [], "probe": []} for name in makers}
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
                    if name.startswith("ours"):
                        # The part of the first answer that is the probe itself.
                        res[name]["probe"].append(json.loads(resp.body)["duration_ms"])
        self.results["cold"] = {
            name: {"tcp_ready": measured(d["tcp"], "ms"), "first_invoke": measured(d["invoke"], "ms"),
                   **({"first_probe": measured(d["probe"], "ms")} if d["probe"] else {})}
            for name, d in res.items()
        }
        self.results["cold"]["exec_floor"] = self.exec_floor(max(5, runs))

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
        # Sample i of every list is from the same round (ours, seed, curl back to back): the
        # render step pairs them.
        self.results["invoke"] = {
            "ours_wall": measured(walls["ours"], "ms"),
            "ours_duration": measured(ours_dur, "ms"),
            "ours_phases_total": measured(ours_total, "ms"),
            "seed_wall": measured(walls["seed"], "ms"),
            "seed_curl_total": measured(seed_curl_total, "ms"),
            "curl_command_wall": measured(walls["curl"], "ms"),
            "curl_total": measured(curl_total, "ms"),
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

    def wrk_cpu(self, port, path, conns, seconds, **pids):
        """`wrk`, and for each named process (`ours=pid`, …) its CPU ms per probe over the run:
        `<name>_cpu_ms_per_probe`, the first name's as `cpu_ms_per_probe`; the whole machine's
        busy CPU ms per probe as `machine_cpu_ms_per_probe`; the first one's `threads`."""
        before = {name: proc_cpu_ms(pid) for name, pid in pids.items()}
        busy = machine_busy_ms()
        w = self.wrk(port, path, conns, seconds)
        n = max(1, w["requests"])
        w["machine_cpu_ms_per_probe"] = (machine_busy_ms() - busy) / n
        for i, (name, pid) in enumerate(pids.items()):
            key = "cpu_ms_per_probe" if i == 0 else f"{name}_cpu_ms_per_probe"
            w[key] = (proc_cpu_ms(pid) - before[name]) / n
        # How many CPUs the peer can use at most: its threads at the end of the run.
        w["threads"] = proc_status(next(iter(pids.values()))).get("Threads", 0)
        return w

    @staticmethod
    def probe_paths(target, module):
        """Ours' and blackbox_exporter's `/probe` paths for the same target."""
        return {
            "ours": "/probe?" + urllib.parse.urlencode({"url": target}),
            "blackbox": "/probe?" + urllib.parse.urlencode({"target": target, "module": module}),
        }

    def throughput(self):
        secs, reps = self.args.wrk_seconds, self.args.wrk_repeats
        levels = self.args.concurrency
        log(f"throughput: wrk {secs}s × {reps} at concurrency {levels}")
        ours, bb = self.ours().start(), self.blackbox().start()
        target = self.url("/web/cloudapi")
        paths = self.probe_paths(target, "http_2xx")
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
        self.results["throughput"] = {name: self.wrk_cells(by_c) for name, by_c in res.items()}

    def memory(self):
        rounds, clients = self.args.mem_rounds, self.args.mem_clients
        log(f"memory: idle, then {clients} concurrent invocations × {rounds}")
        slow = self.url(f"/delay/{MEM_DELAY_MS}")
        res = {}
        for name, make in (("ours", self.ours), ("seed", self.seed), ("blackbox", self.blackbox)):
            peer = make().start()
            try:
                res[name] = self.load_memory(peer, name, slow, clients, rounds)
            finally:
                peer.stop()
        self.results["memory"] = res

    def load_memory(self, peer, name, slow, clients, rounds):
        """Idle, then `clients` invocations of `slow` at once × `rounds`: memory and answers."""
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
        t0 = now()
        for r in range(rounds):
            barrier = threading.Barrier(clients, timeout=STEP_TIMEOUT)

            def worker(i, barrier=barrier):
                try:
                    barrier.wait()
                    statuses.append(one(i))
                except Exception as e:  # noqa: BLE001 - counted as a failure below
                    statuses.append(type(e).__name__)

            ts = [
                threading.Thread(target=worker, args=(r * clients + i,))
                for i in range(clients)
            ]
            for t in ts:
                t.start()
            for t in ts:
                t.join(STEP_TIMEOUT * 2)
        wall = now() - t0
        stop.set()
        sampler.join()
        loaded = proc_status(peer.pid)
        # One reading each (MiB), not samples: a process's memory at a moment.
        return {
            "idle_start_rss_mib": idle_start.get("VmRSS"),
            "idle_start_hwm_mib": idle_start.get("VmHWM"),
            "idle_warm_rss_mib": idle_warm.get("VmRSS"),
            "loaded_hwm_mib": loaded.get("VmHWM"),
            "loaded_tree_peak_mib": peak_tree[0],
            "invocations": len(statuses),
            "answered_200": sum(1 for s in statuses if s == 200),
            "failed": dict(sorted(
                {str(s): statuses.count(s) for s in statuses if s != 200}.items()
            )),
            "wall_s": wall,
        }

    def accuracy(self):
        runs = self.args.accuracy_runs
        delay = ACCURACY_DELAY_MS
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
        self.results["accuracy"] = {
            p: {k: measured(v, "ms") for k, v in d.items()} for p, d in res.items()
        }

    def sizes(self):
        size = os.path.getsize(self.bin)
        pkg = self.args.package
        pkg_file, zip_level = None, None
        if pkg and os.path.exists(pkg):
            pkg_size, pkg_file = os.path.getsize(pkg), os.path.relpath(pkg, ROOT)
        else:
            # Deflate level 9, as `make package`; 1 in quick mode (a debug binary is ~130 MB).
            zip_level = 1 if self.args.quick else 9
            with tempfile.TemporaryDirectory() as d:
                z = os.path.join(d, "pkg.zip")
                with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=zip_level) as zf:
                    zf.write(self.bin, "bootstrap")
                pkg_size = os.path.getsize(z)
        bb = shutil.which(self.args.blackbox) or self.args.blackbox
        self.results["sizes"] = {  # bytes
            "ours_binary": size,
            "ours_package": pkg_size,
            "ours_package_file": pkg_file,  # None: the runner zipped the binary itself
            "ours_package_zip_level": zip_level,
            "seed_script": os.path.getsize(SEED),
            "blackbox_binary": os.path.getsize(bb),
            "curl_binary": os.path.getsize(shutil.which(self.args.curl) or self.args.curl),
        }

    # issue 14: https, the signed path, 1,000 invocations, scrapes, the cross-check -------------

    def tls(self):
        """The test CA and the backend's certificate (ECDSA P-256, SAN IP:127.0.0.1), made once
        with openssl in the run's temp dir, valid 30 days (the function's default
        `cert_days_min` is 14); {"ca": path, "cert": path, "key": path}."""
        if self._tls is None:
            d = self.tmp
            ext = os.path.join(d, "leaf.ext")
            with open(ext, "w") as f:
                f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n")
            ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            p = {k: os.path.join(d, f"{k}.pem") for k in ("ca", "ca_key", "cert", "key", "csr")}
            cmds = [
                [self.args.openssl, "req", "-x509", *ec, "-keyout", p["ca_key"], "-out", p["ca"],
                 "-days", "30", "-subj", "/CN=apigw bench test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                [self.args.openssl, "req", *ec, "-keyout", p["key"], "-out", p["csr"],
                 "-subj", "/CN=127.0.0.1"],
                [self.args.openssl, "x509", "-req", "-in", p["csr"], "-CA", p["ca"],
                 "-CAkey", p["ca_key"], "-CAcreateserial", "-out", p["cert"], "-days", "30",
                 "-extfile", ext],
            ]
            for argv in cmds:
                subprocess.run(argv, check=True, capture_output=True, timeout=STEP_TIMEOUT)
            self._tls = p
        return self._tls

    def start_standin(self, part, *extra):
        """A stand-in part as its own process; (process, the JSON line it printed)."""
        argv = self.standin + [part, *extra]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env=base_env(), text=True)
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=STEP_TIMEOUT)
            raise RuntimeError(f"the stand-in ({shlex.join(argv)}) exited before listening")
        self.standins.append(proc)
        return proc, json.loads(line)

    def stop_standins(self):
        for proc in self.standins:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STEP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.standins = []

    def tls_backend(self, version):
        """The stand-in backend over TLS `version` ("1.2"/"1.3") only; its https base URL."""
        t = self.tls()
        if version not in self._tls_backends:
            proc, line = self.start_standin(
                "backend", "--listen", f"{LOOPBACK}:0", "--tls-cert", t["cert"],
                "--tls-key", t["key"], "--tls-version", version)
            port = int(line["listen"].rsplit(":", 1)[1])
            self._tls_backends[version] = f"https://{LOOPBACK}:{port}"
            self._tls_backend_pids[version] = proc.pid
        return self._tls_backends[version]

    def https_env(self):
        return [f"APIGW_CA_FILE={self.tls()['ca']}"]

    def https_throughput(self):
        secs, reps = self.args.wrk_seconds, self.args.wrk_repeats
        levels = self.args.concurrency
        log(f"https throughput: wrk {secs}s × {reps} at concurrency {levels}, TLS 1.3 and 1.2")
        res = {}
        for version in ("1.3", "1.2"):
            target = self.tls_backend(version) + "/web/cloudapi"
            ours, bb = self.ours(self.https_env()).start(), self.blackbox().start()
            paths = self.probe_paths(target, "https_2xx")
            cells = {name: {c: [] for c in levels} for name in paths}
            try:
                # Both peers must really finish a TLS handshake of this version first.
                resp = request(ours.port, "GET", paths["ours"])
                sample = json.loads(resp.body)["targets"][0]["samples"][0]
                if resp.status != 200 or sample.get("error"):
                    raise RuntimeError(f"ours https probe failed: {resp.status} {resp.body[:400]!r}")
                seen = (sample.get("tls") or {}).get("version")
                if seen != f"TLS {version}":
                    raise RuntimeError(f"ours: TLS {version} expected, the sample says {seen}")
                status, m = self.blackbox_probe(bb, target, "https_2xx")
                if status != 200 or m.get("probe_success") != 1.0:
                    raise RuntimeError(f"blackbox https probe failed: {status} {m}")
                if m.get(f'probe_tls_version_info{{version="TLS {version}"}}') != 1.0:
                    raise RuntimeError(f"blackbox: TLS {version} expected: {m}")
                # CPU per probe of the peer and of the backend they share: on two CPUs the
                # backend's handshakes (and wrk) take the same share from either peer.
                backend_pid = self._tls_backend_pids[version]
                for c in levels:
                    for _ in range(reps):
                        for name, peer in (("ours", ours), ("blackbox", bb)):
                            cells[name][c].append(self.wrk_cpu(
                                peer.port, paths[name], c, secs, peer=peer.pid,
                                backend=backend_pid))
            finally:
                ours.stop()
                bb.stop()
            res[f"tls{version}"] = {name: self.wrk_cells(by_c) for name, by_c in cells.items()}
        self.results["https_throughput"] = res

    def wrk_cells(self, by_c):
        return [
            {
                "concurrency": c,
                "probes_per_s": measured([x["rps"] for x in runs], "1/s"),
                "avg_latency": measured([x["avg_ms"] for x in runs], "ms"),
                "requests": [x["requests"] for x in runs],
                "errors": [x["errors"] for x in runs],
                # What `wrk_cpu` measured: the peer's CPU per probe, and the others named.
                **{k: measured([x[k] for x in runs], "ms")
                   for k in (runs[0] if runs else {}) if k.endswith("cpu_ms_per_probe")},
                **({"threads": max(x["threads"] for x in runs)}
                   if runs and "threads" in runs[0] else {}),
            }
            for c, runs in by_c.items()
        ]

    def https_invoke(self):
        runs = self.args.invoke_runs
        log(f"https invocation: {runs} pairs, ours vs curl, TLS 1.3")
        target = self.tls_backend("1.3") + "/web/cloudapi"
        ours = self.ours(self.https_env()).start()
        body = json.dumps({"url": target}).encode()
        dur, tot, tls_ms, curl_total, curl_tls = [], [], [], [], []
        try:
            self.invoke(ours, body)
            self.curl(target, cacert=self.tls()["ca"])
            for i in range(runs):
                resp = self.invoke(ours, body, rid=f"https-{i}")
                report = json.loads(resp.body)
                sample = report["targets"][0]["samples"][0]
                if resp.status != 200 or sample.get("error"):
                    raise RuntimeError(f"ours https /invoke: {resp.status} {resp.body[:400]!r}")
                dur.append(report["duration_ms"])
                tot.append(sample["phases_ms"]["total"])
                tls_ms.append(sample["phases_ms"]["tls"])
                _, w = self.curl(target, cacert=self.tls()["ca"])
                curl_total.append(w["total"] * 1000)
                curl_tls.append((w["pretransfer"] - w["connect"]) * 1000)
        finally:
            ours.stop()
        self.results["https_invoke"] = {
            "ours_duration": measured(dur, "ms"),
            "ours_phases_total": measured(tot, "ms"),
            "ours_tls": measured(tls_ms, "ms"),
            "curl_total": measured(curl_total, "ms"),
            "curl_tls": measured(curl_tls, "ms"),
        }

    def signed(self):
        reps, c = self.args.wrk_repeats, self.args.signed_concurrency
        secs = min(SIGNED_SECONDS, self.args.wrk_seconds)
        pairs_n = SIGNED_PAIRS_PER_REPEAT * reps
        log(f"signed path: {pairs_n} pairs of wrk {secs}s at concurrency {c}, unsigned and signed")
        domain = f"{SIGN_GROUP}-{SIGN_REGION}-vpc.alicloudapi.com"
        _, dns = self.start_standin("dns", "--listen", f"{LOOPBACK}:0", "--record",
                                    f"{domain}={LOOPBACK}")
        backend = f"http://{LOOPBACK}:{self.backend_port}/web/cloudapi"
        _, gw = self.start_standin(
            "gateway", "--listen", f"{LOOPBACK}:0", "--group", SIGN_GROUP, "--region", SIGN_REGION,
            "--api", f"POST:/web/cloudapi:RELEASE={backend}",
            "--signed-api", f"POST:/web/signed:RELEASE={backend}",
            "--app", f"{SIGN_APP_KEY}={SIGN_APP_SECRET}")
        gw_port = int(gw["listen"].rsplit(":", 1)[1])
        body = json.dumps({"probe": "x" * 400})  # a JSON body: Content-MD5 over ~0.4 KB
        module = {"method": "POST", "body": body, "stage": "RELEASE",
                  "headers": {"Content-Type": "application/json"}}
        modules = {"signed": dict(module, auth="app"), "unsigned": dict(module, auth="none")}
        env = [f"APIGW_DNS_SERVERS={dns['listen']}", f"APIGW_ALLOW_HOSTS={domain},{LOOPBACK}",
               f"APIGW_SIGN_HOSTS={domain}", "APIGW_REQUEST_METHODS=POST",
               f"APIGW_APP_KEY={SIGN_APP_KEY}", f"APIGW_APP_SECRET={SIGN_APP_SECRET}",
               f"APIGW_MODULES={json.dumps(modules)}"]
        ours = self.ours(env).start()
        signed_api = f"http://{domain}:{gw_port}/web/signed"
        anonymous_api = f"http://{domain}:{gw_port}/web/cloudapi"

        def probe_path(module, url):
            return "/probe?" + urllib.parse.urlencode({"module": module, "target": url})

        def success(module, url):
            resp = request(ours.port, "GET", probe_path(module, url))
            text = resp.body.decode()
            if resp.status != 200:
                raise RuntimeError(f"ours {module} → {url}: {resp.status} {text[:600]}")
            return "\nprobe_success 1" in "\n" + text

        # Both variants are timed against the anonymous API, so the gateway does the same work
        # for each (it verifies no signature there) and the difference is ours alone: signing,
        # the extra headers, the signature's redaction forms. That the signature is real is
        # shown on the signed API first: the signed module passes there, the unsigned fails.
        paths = {k: probe_path(k, anonymous_api) for k in ("unsigned", "signed")}
        cells = {k: {c: []} for k in paths}
        try:
            if not success("signed", signed_api):
                raise RuntimeError("ours signed module failed on the signed API")
            if success("unsigned", signed_api):
                raise RuntimeError("the stand-in gateway answered an unsigned call to the signed API")
            for k in paths:
                if not success(k, anonymous_api):
                    raise RuntimeError(f"ours {k} module failed on the anonymous API")
            # The signature's cost is a few µs in a probe of a few hundred, well inside the
            # spread of separate runs on a shared machine (about ±10 %). So the step runs pairs
            # (unsigned, signed) back to back, in alternating order (ABBA: a drift in the
            # machine's load hits both sides alike), and judges the median of the pairs' own
            # differences rather than the difference of two medians.
            pairs = []
            for i in range(pairs_n):
                order = ("unsigned", "signed") if i % 2 == 0 else ("signed", "unsigned")
                pair = {}
                for k in order:
                    w = self.wrk_cpu(ours.port, paths[k], c, secs, ours=ours.pid)
                    cells[k][c].append(w)
                    pair[k] = w["cpu_ms_per_probe"]
                pairs.append((pair["signed"] - pair["unsigned"]) / pair["unsigned"]
                             if pair["unsigned"] else float("nan"))
        finally:
            ours.stop()
        self.results["signed"] = {k: self.wrk_cells(by_c) for k, by_c in cells.items()}
        self.results["signed"]["body_bytes"] = len(body)
        self.results["signed"]["run_seconds"] = secs
        self.results["signed"]["paired_cpu_share"] = measured(pairs, "ratio")

    def c1000(self):
        clients, delay = self.args.c1000_clients, C1000_DELAY_MS
        log(f"{clients} concurrent invocations of /delay/{delay}, ours vs blackbox vs seed")
        slow = self.url(f"/delay/{delay}")
        # The trust issue's limits stay in force; only the connection limit is raised so that
        # every one of the invocations is admitted (the default, 64, answers the rest 503).
        env = [f"APIGW_MAX_CONNECTIONS={clients + C1000_HEADROOM}"]
        res = {}
        for name, make in (("ours", lambda: self.ours(env)), ("blackbox", self.blackbox),
                           ("seed", self.seed)):
            peer = make().start()
            try:
                res[name] = self.load_memory(peer, name, slow, clients, 1)
            finally:
                peer.stop()
        res["ours"]["max_connections"] = clients + C1000_HEADROOM
        self.results["c1000"] = res

    def scrapes(self):
        secs, reps = self.args.wrk_seconds, self.args.wrk_repeats
        levels = self.args.scrape_concurrency
        log(f"metrics scrapes: wrk {secs}s × {reps} at concurrency {levels}")
        ours, bb = self.ours().start(), self.blackbox().start()
        target = self.url("/web/cloudapi")
        scrape = "/probe?" + urllib.parse.urlencode({"module": "http_2xx", "target": target})
        paths = {"ours": scrape, "blackbox": scrape,
                 "ours_json": "/probe?" + urllib.parse.urlencode({"url": target})}
        peers = {"ours": ours, "blackbox": bb, "ours_json": ours}
        cells = {name: {c: [] for c in levels} for name in paths}
        try:
            resp = request(ours.port, "GET", scrape)
            text = resp.body.decode()
            if resp.status != 200 or "\nprobe_success 1" not in "\n" + text \
                    or not resp.headers.get("content-type", "").startswith("text/plain"):
                raise RuntimeError(f"ours scrape: {resp.status} {resp.headers} {text[:400]}")
            for c in levels:
                for _ in range(reps):
                    for name in ("ours", "blackbox", "ours_json"):
                        cells[name][c].append(self.wrk(peers[name].port, paths[name], c, secs))
        finally:
            ours.stop()
            bb.stop()
        self.results["scrapes"] = {name: self.wrk_cells(by_c) for name, by_c in cells.items()}
        self.results["scrapes"]["ours_scrape_bytes"] = len(resp.body)

    def crosscheck(self):
        runs = self.args.crosscheck_runs
        log(f"cross-check: {runs} failing invocations with and without it, then faults")
        _, s = self.start_standin("all", "--bind", LOOPBACK)
        cp = s["control_plane"]
        cp_url = cp if cp.startswith("http") else f"http://{cp}"
        gw_port = int(s["gateway"].rsplit(":", 1)[1])
        closed = socket.socket()
        closed.bind((LOOPBACK, 0))  # bound, never listening: a closed port held by this runner
        closed_url = f"http://{LOOPBACK}:{closed.getsockname()[1]}"

        def env(endpoint, check):
            e = [f"APIGW_DNS_SERVERS={s['dns']}", "APIGW_ALLOW_HOSTS=*.alicloudapi.com,127.0.0.1",
                 f"APIGW_CONFIG_CHECK={check}", "APIGW_CONNECT_TIMEOUT_MS=1000"]
            e += [f"APIGW_OPENAPI_ENDPOINT_{p}={endpoint}" for p in ("APIGATEWAY", "FC", "VPC", "CBN")]
            return e

        # The demo world's group whose VPC domain is disabled: the probe fails (dns.nxdomain)
        # and the cross-check runs S0 → S1 → S3 → S4 against the control plane.
        failing = json.dumps({"url": f"http://{CROSS_DISABLED_GROUP}-{SIGN_REGION}-vpc."
                              f"alicloudapi.com:{gw_port}/web/cloudapi"}).encode()
        fc_timeout_s = CROSS_FC_TIMEOUT_S
        headers = {"x-fc-region": SIGN_REGION, "x-fc-function-name": "apigw-vpc-probe",
                   "x-fc-qualifier": "LATEST", "x-fc-function-timeout": str(fc_timeout_s),
                   "x-fc-account-id": CROSS_ACCOUNT_ID, "x-fc-access-key-id": CROSS_STS[0],
                   "x-fc-access-key-secret": CROSS_STS[1], "x-fc-security-token": CROSS_STS[2]}
        deadline_ms = fc_timeout_s * 1000 - CROSS_MARGIN_MS

        def call(peer, rid):
            resp = request(peer.port, "POST", "/invoke", failing, rid=rid, headers=headers,
                           timeout=fc_timeout_s + STEP_TIMEOUT)
            report = json.loads(resp.body)
            t = report["targets"][0]
            return resp.wall_ms, t, report

        def admin(method, path, body=None):
            u = urllib.parse.urlsplit(cp_url)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=STEP_TIMEOUT)
            try:
                conn.request(method, path, body=json.dumps(body) if body is not None else None,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status >= 300:
                    raise RuntimeError(f"control plane admin {method} {path}: {r.status}")
            finally:
                conn.close()

        on, off = self.ours(env(cp_url, "on-failure")).start(), self.ours(env(cp_url, "off")).start()
        res = {"with": [], "without": [], "check_ms": [], "verdict": None}
        faults = {}
        try:
            call(on, "warm")
            call(off, "warm")
            for i in range(runs):
                w_on, t, _ = call(on, f"cc-{i}")
                if not t.get("config_check"):
                    raise RuntimeError(f"no config_check on the failing target: {t}")
                w_off, t_off, _ = call(off, f"nc-{i}")
                if t_off.get("config_check"):
                    raise RuntimeError("APIGW_CONFIG_CHECK=off checked")
                res["with"].append(w_on)
                res["without"].append(w_off)
                res["check_ms"].append(t["config_check"]["duration_ms"])
                res["verdict"] = t["config_check"]["verdict"]
            # Faults: a control plane that answers late, one that never answers, and none
            # listening. The answer must still come by the function's deadline.
            for fault, body in (("slow", {"action": "*", "delayMs": CROSS_SLOW_MS}),
                                ("hanging", {"action": "*", "hang": True}),
                                ("unreachable", None)):
                if body is not None:
                    admin("POST", "/_standin/faults", body)
                    peer = on
                else:
                    peer = self.ours(env(closed_url, "on-failure")).start()
                walls, verdicts = [], []
                try:
                    for i in range(self.args.fault_runs):
                        w, t, _ = call(peer, f"fault-{fault}-{i}")
                        walls.append(w)
                        verdicts.append((t.get("config_check") or {}).get("verdict"))
                finally:
                    if body is not None:
                        admin("DELETE", "/_standin/faults")
                    else:
                        peer.stop()
                faults[fault] = {"wall": measured(walls, "ms"), "verdicts": verdicts}
                log(f"  {fault} control plane: answered in {max(walls):.0f} ms at most "
                    f"(deadline {deadline_ms} ms, FC timeout {fc_timeout_s * 1000} ms)")
                if max(walls) > fc_timeout_s * 1000:
                    raise RuntimeError(f"{fault} control plane: answered after {max(walls):.0f} ms, "
                                       f"past FC's timeout of {fc_timeout_s} s")
        finally:
            on.stop()
            off.stop()
            closed.close()
        self.results["crosscheck"] = {
            "with_wall": measured(res["with"], "ms"),
            "without_wall": measured(res["without"], "ms"),
            "check_duration": measured(res["check_ms"], "ms"),
            "verdict": res["verdict"],
            "deadline_ms": deadline_ms,
            "fc_timeout_ms": fc_timeout_s * 1000,
            "faults": faults,
        }

    def cold_https(self):
        runs = self.args.cold_runs
        log(f"cold start, https target (root store + CA file): {runs} runs (+1 warm-up)")
        target = self.tls_backend("1.3") + "/web/cloudapi"
        tcp, inv, probe, tls = [], [], [], []
        for i in range(runs + 1):
            peer = self.ours(self.https_env() + [f"APIGW_URL={target}"])
            t0 = now()
            proc = peer.spawn()
            try:
                t_tcp = wait_tcp(peer.port, t0 + STEP_TIMEOUT, proc=proc)
                resp = self.invoke(peer, rid=f"cold-https-{i}")
            finally:
                peer.stop()
            report = json.loads(resp.body)
            sample = report["targets"][0]["samples"][0]
            if resp.status != 200 or sample.get("error"):
                raise RuntimeError(f"ours https cold: {resp.status} {resp.body[:300]!r}")
            if i > 0:
                tcp.append((t_tcp - t0) * 1000)
                inv.append((resp.done - t0) * 1000)
                probe.append(report["duration_ms"])
                tls.append(sample["phases_ms"]["tls"])
        self.results["cold_https"] = {"tcp_ready": measured(tcp, "ms"),
                                      "first_invoke": measured(inv, "ms"),
                                      "first_probe": measured(probe, "ms"),
                                      "first_tls": measured(tls, "ms")}

    # the run's context -----------------------------------------------------

    def machine(self):
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
        return {"cpu": cpu, "cpus": os.cpu_count(), "mem_mib": mem, "os": os_name,
                "kernel": platform.release()}

    def versions(self):
        def first(argv):
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (out.stdout or out.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "?"

        return {
            "ours": first([self.bin, "--version"]),
            "python": first([self.args.python, "--version"]),
            "curl": " ".join(first([self.args.curl, "--version"]).split()[:2]),
            "openssl": first([self.args.openssl, "version"]),
            "blackbox": first([self.args.blackbox, "--version"]),
            "wrk": first([self.args.wrk, "-v"]).split(" Copyright")[0],
            "rustc": first(["rustc", "--version"]),
        }

    def params(self):
        a = self.args
        return {
            "cold_runs": a.cold_runs,
            "connect_poll_ms": CONNECT_POLL_S * 1000,
            "invoke_runs": a.invoke_runs,
            "wrk_seconds": a.wrk_seconds,
            "wrk_repeats": a.wrk_repeats,
            "concurrency": a.concurrency,
            "mem_rounds": a.mem_rounds,
            "mem_clients": a.mem_clients,
            "mem_delay_ms": MEM_DELAY_MS,
            "accuracy_runs": a.accuracy_runs,
            "accuracy_delay_ms": ACCURACY_DELAY_MS,
            "client_timeout_s": STEP_TIMEOUT,
            "ours_env": a.ours_env,
            "https_concurrency": a.concurrency,
            "signed_concurrency": a.signed_concurrency,
            "c1000_clients": a.c1000_clients,
            "c1000_delay_ms": C1000_DELAY_MS,
            "scrape_concurrency": a.scrape_concurrency,
            "crosscheck_runs": a.crosscheck_runs,
            "fault_runs": a.fault_runs,
            "crosscheck_slow_ms": CROSS_SLOW_MS,
        }


# ---------------------------------------------------------------- render

# The goals, checked against every run (render step).
GOAL_COLD_START_MS = 2.5  # issue 14: "stays ≤ 2.5 ms" (issue 6 asked ≤ 5 ms)
GOAL_OVERHEAD = 0.10
GOAL_IDLE_RSS_MIB = 8.0
# Issue 14's goals.
GOAL_COLD_START_HTTPS_MS = 2.5
GOAL_HTTPS_RATIO = 3.0
GOAL_SIGNED_SHARE = 0.05
GOAL_C1000_MIB = 64.0
GOAL_BINARY_BYTES = 4_500_000  # 4.5 MB, decimal


def render(doc, json_name):
    """BENCHMARKS.md from the run's JSON (`doc`) alone: every figure, ratio and goal verdict is
    computed here from the recorded samples; `json_name` is only named in the header."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"schema {doc.get('schema')!r}; this runner renders schema {SCHEMA}")
    run, p, r = doc["run"], doc["params"], doc["results"]
    S = lambda m: Stats(m["samples"])  # noqa: E731
    L = []
    add = L.append
    add("# Benchmarks")
    add("")
    add(f"<!-- Written by `make bench` (bench/run.py), rendered from {json_name}. Every number "
        "below comes from that run; do not edit by hand. -->")
    add("")
    started = datetime.datetime.fromisoformat(run["started"])
    add(f"Run {started.strftime('%Y-%m-%d %H:%M UTC')} "
        f"{'(quick mode: few repetitions, smoke only) ' if run['quick'] else ''}"
        f"in {run['elapsed_s']:.0f} s.")
    add("")
    m, v, load, ours = doc["machine"], doc["versions"], doc["load"], doc["ours"]
    avg = lambda xs: " ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    add("| | |")
    add("|---|---|")
    add(f"| machine | {m['cpu']}, {m['cpus']} CPUs, {m['mem_mib']} MiB RAM |")
    add(f"| OS | {m['os']}, Linux {m['kernel']} |")
    add(f"| load average (1, 5, 15 min) | at start {avg(load['start'])}; at end {avg(load['end'])} |")
    add(f"| binary measured | `{ours['binary']}` ({ours['label']}) — {v['ours']} |")
    add(f"| rustc | {v['rustc']} |")
    add(f"| seed peer | `bench/seed_curl_runtime.py` on {v['python']}, {v['curl']} |")
    add(f"| blackbox_exporter | {v['blackbox']}, `bench/blackbox.yml` module `http_2xx` |")
    add(f"| load generator | {v['wrk']} |")
    add("")
    add(f"Target for every peer: the stand-in backend (`{ours['standin']} backend`) on "
        "127.0.0.1 by IP literal (`http://127.0.0.1:<port>/web/cloudapi`): no peer resolves a name, "
        "so none pays for a DNS server the others do not ask (ours runs with "
        "`APIGW_ALLOW_HOSTS=127.0.0.1`). All peers log as they would in production (ours: JSON "
        "lines at `info`; the seed: FC markers), to /dev/null. Figures are median (min–max, n).")
    la = max(load["start"][0], load["end"][0])
    if la > 0.5:
        add("")
        add(f"**Note:** the 1-minute load average was up to {la:.2f} on {m['cpus']} CPUs during "
            "this run: other work shared the machine, so these numbers are noisier (and slower) "
            "than on a quiet machine.")
    add("")

    goals = []
    fl = r.get("cold", {}).get("floor")
    # Beside both cold-start goals: what this runner measures for a process that only answers.
    floor = f"; a process that only answers: {S(fl['first_invoke']).median:.2f} ms" if fl else ""
    if "cold" in r:
        c = r["cold"]
        tcp = {n: S(c[n]["tcp_ready"]) for n in ("ours", "seed")}
        inv = {n: S(c[n]["first_invoke"]) for n in ("ours", "seed")}
        add("## Cold start")
        add("")
        add("From spawn to the port accepting a TCP connection (FC's readiness check), and to the "
            "first `POST /invoke` answered 200 (one probe of the backend). Connect polled every "
            f"{p['connect_poll_ms']:.1f} ms; a fresh process per run, runs interleaved; a warm-up "
            "run first is not counted. For scale: spawn+wait of `/bin/true` from this runner is "
            f"{S(c['exec_floor']).fmt(2, ' ms')}"
            + ("; the floor row is a process that answers without doing anything, measured "
               "the same way, interleaved." if fl else ".")
            + " *Of it, the probe*: the first report's `duration_ms`, the prober's own time "
            "inside that answer (the backend's answer included).")
        add("")
        # Runs before the tenth pass did not record the first probe's own time.
        probe = lambda d: S(d["first_probe"]).fmt() if "first_probe" in d else "–"  # noqa: E731
        add("| | TCP ready (ms) | first /invoke 200 (ms) | of it, the probe (`duration_ms`) |")
        add("|---|---|---|---|")
        for name in ("ours", "seed"):
            add(f"| {name} | {tcp[name].fmt()} | {inv[name].fmt()} | {probe(c[name])} |")
        add(f"| **seed ÷ ours** | {ratio(tcp['seed'].median, tcp['ours'].median)} | "
            f"{ratio(inv['seed'].median, inv['ours'].median)} | |")
        if "ours_one_cpu" in c:
            one = c["ours_one_cpu"]
            add("| ours pinned to one CPU (its affinity, as on FC's `cpu: 0.1`) | "
                f"{S(one['tcp_ready']).fmt()} | {S(one['first_invoke']).fmt()} | {probe(one)} |")
        if fl:
            add(f"| floor: a static C server that only answers `200 {{}}` (bench/floor.c) | "
                f"{S(fl['tcp_ready']).fmt()} | {S(fl['first_invoke']).fmt()} | – |")
        add("")
        med = inv["ours"].median
        of_it = (f"; the probe {S(c['ours']['first_probe']).median:.2f} ms of it"
                 if "first_probe" in c["ours"] else "")
        goals.append((f"cold start ≤ {GOAL_COLD_START_MS:g} ms (spawn → first /invoke answered)",
                      f"{med:.2f} ms (TCP ready {tcp['ours'].median:.2f} ms{of_it}{floor})",
                      med <= GOAL_COLD_START_MS))

    if "invoke" in r:
        i = {k: S(x) for k, x in r["invoke"].items()}
        dur, tot = r["invoke"]["ours_duration"]["samples"], r["invoke"]["ours_phases_total"]["samples"]
        curl_tot = r["invoke"]["curl_total"]["samples"]
        # Work of the prober around the timed path: plan the target, build the request,
        # assemble the report, log the result.
        around = Stats([d - t for d, t in zip(dur, tot)])
        # Each invocation and its curl run back to back: the ratio cancels load drift.
        paired = Stats([d / c for d, c in zip(dur, curl_tot) if c > 0])
        add("## Invocation")
        add("")
        add("One probe of `/web/cloudapi` per invocation, a fresh connection each, sequential, "
            "peers interleaved. *Wall* is what the caller sees (runner's clock, TCP connect → the "
            "response's last byte). `curl` alone is the command `curl -s -o /dev/null -w … URL` "
            "(spawn → exit) and curl's own `time_total` (the network path as curl measures it).")
        add("")
        add("| | median (min–max, n) ms |")
        add("|---|---|")
        add(f"| ours: `POST /invoke` wall | {i['ours_wall'].fmt(3)} |")
        add(f"| ours: the prober's own time (`duration_ms` in the report) | {i['ours_duration'].fmt(3)} |")
        add(f"| ours: the sample's `phases_ms.total` | {i['ours_phases_total'].fmt(3)} |")
        add(f"| ours: `duration_ms` − `phases_ms.total` (planning, request building, report, log) | {around.fmt(3)} |")
        add(f"| seed: `POST /invoke` wall | {i['seed_wall'].fmt(3)} |")
        add(f"| seed: its curl's `time_total` | {i['seed_curl_total'].fmt(3)} |")
        add(f"| curl alone: command wall (spawn → exit) | {i['curl_command_wall'].fmt(3)} |")
        add(f"| curl alone: `time_total` | {i['curl_total'].fmt(3)} |")
        add("")
        ct, ow, od = i["curl_total"].median, i["ours_wall"].median, i["ours_duration"].median
        over = od / ct - 1 if ct else float("nan")
        add("| ratio | |")
        add("|---|---|")
        add(f"| seed wall ÷ ours wall | {ratio(i['seed_wall'].median, ow)} |")
        add(f"| ours wall ÷ curl command wall | {ratio(ow, i['curl_command_wall'].median)} |")
        add(f"| ours wall ÷ curl `time_total` | {ratio(ow, ct)} "
            f"(+{ow - ct:.3f} ms: the trigger hop, JSON and report) |")
        add(f"| ours prober (`duration_ms`) ÷ curl `time_total` | {ratio(od, ct)} ({over * 100:+.1f} %) |")
        add(f"| the same, median of the {len(paired.values)} back-to-back pairs | "
            f"{paired.median:.2f}× ({(paired.median - 1) * 100:+.1f} %) |")
        add(f"| ours reported `phases_ms.total` ÷ curl `time_total` (the path as each measures it) | "
            f"{ratio(i['ours_phases_total'].median, ct)} |")
        add("")
        goals.append((f"probe overhead over curl ≤ {GOAL_OVERHEAD * 100:.0f} % (the prober's "
                      "`duration_ms` vs curl's `time_total`, same request, both in a running process)",
                      f"{over * 100:+.1f} % ({od:.3f} vs {ct:.3f} ms; "
                      f"paired {(paired.median - 1) * 100:+.1f} %); "
                      f"end to end through `/invoke` {ow:.3f} ms vs the curl command "
                      f"{i['curl_command_wall'].median:.3f} ms", over <= GOAL_OVERHEAD))

    if "throughput" in r:
        t = r["throughput"]
        add("## Probe throughput (HTTP trigger)")
        add("")
        add(f"`wrk -c N -t min(N,2) -d {p['wrk_seconds']}s -H 'Connection: close'` (a fresh "
            "connection per probe, and each probe opens a fresh connection to the backend) against "
            "ours `GET /probe?url=…` and blackbox_exporter `GET /probe?target=…&module=http_2xx`; "
            f"{p['wrk_repeats']} run(s) per cell, peers alternating. Probes/s; errors = non-2xx + "
            "socket errors over all runs. wrk, the peer and the backend share the 2 CPUs.")
        add("")
        add("| concurrency | ours probes/s | blackbox probes/s | ours ÷ blackbox | ours avg latency | blackbox avg latency | errors ours / blackbox |")
        add("|---|---|---|---|---|---|---|")
        wins = []
        for oc, bc in zip(t["ours"], t["blackbox"]):
            c = oc["concurrency"]
            o, b = S(oc["probes_per_s"]), S(bc["probes_per_s"])
            ol, bl = S(oc["avg_latency"]), S(bc["avg_latency"])
            add(f"| {c} | {o.fmt(0)} | {b.fmt(0)} | {ratio(o.median, b.median)} | "
                f"{ol.median:.2f} ms | {bl.median:.2f} ms | {sum(oc['errors'])} / {sum(bc['errors'])} |")
            wins.append((c, o.median, b.median))
        add("")
        goals.append(("more probes/s than blackbox_exporter at every concurrency",
                      ", ".join(f"c{c}: {o:.0f} vs {b:.0f}" for c, o, b in wins),
                      all(o > b for _, o, b in wins)))

    if "memory" in r:
        mem = r["memory"]
        n = p["mem_clients"]
        add("## Memory")
        add("")
        add("From `/proc/<pid>/status`, MiB. *Idle*: 0.3 s after the port accepts; *warm idle*: "
            f"after one invocation. *Under load*: {n} invocations at once (a barrier releases {n} "
            f"client threads), {p['mem_rounds']} round(s), each probing `/delay/{p['mem_delay_ms']}` "
            f"so that all {n} are in flight together: VmHWM of the process, and the peak sum of "
            "VmRSS over the process and its children sampled every 5 ms (the seed forks one curl "
            "per invocation). blackbox_exporter is driven through its `/probe`. A client gives up "
            f"after {p['client_timeout_s']:.0f} s (TimeoutError); the seed's server is Python's "
            "ThreadingHTTPServer, whose listen backlog is socketserver's default of 5.")
        add("")
        add("| | idle VmRSS | idle VmHWM | warm idle VmRSS | under load VmHWM | under load, process tree peak | load answered 200 |")
        add("|---|---|---|---|---|---|---|")
        cols = ("idle_start_rss_mib", "idle_start_hwm_mib", "idle_warm_rss_mib", "loaded_hwm_mib",
                "loaded_tree_peak_mib")
        for name in ("ours", "seed", "blackbox"):
            x = mem[name]
            add("| " + name + " | " + " | ".join(f"{x[k]:.1f}" for k in cols) + " | "
                f"{x['answered_200']}/{x['invocations']}"
                + "".join(f", {cnt} × {k}" for k, cnt in x["failed"].items()) + " |")
        o = mem["ours"]
        for peer in ("seed", "blackbox"):
            add(f"| **{peer} ÷ ours** | "
                + " | ".join(ratio(mem[peer][k], o[k]) for k in cols) + " | |")
        add("")
        idle = max(o["idle_start_hwm_mib"], o["idle_warm_rss_mib"])
        goals.append((f"idle RSS ≤ {GOAL_IDLE_RSS_MIB:g} MB (the larger of idle VmHWM and warm "
                      "idle VmRSS)", f"{idle:.1f} MiB", idle <= GOAL_IDLE_RSS_MIB))

    if "sizes" in r:
        s = r["sizes"]
        if s["ours_package_file"]:
            pkg_note = s["ours_package_file"]
        else:
            pkg_note = "the binary as `bootstrap` in a deflate zip made by the runner"
            if s["ours_package_zip_level"] != 9:
                pkg_note += f", level {s['ours_package_zip_level']}"
        add("## Size")
        add("")
        add("| | bytes | MiB |")
        add("|---|---|---|")
        add(f"| ours: binary (`{ours['binary']}`) | {s['ours_binary']} | {s['ours_binary'] / 2**20:.2f} |")
        add(f"| ours: package ({pkg_note}) | {s['ours_package']} | {s['ours_package'] / 2**20:.2f} |")
        add(f"| seed: `seed_curl_runtime.py` (needs a Python runtime and curl in the image) | {s['seed_script']} | {s['seed_script'] / 2**20:.3f} |")
        add(f"| blackbox_exporter binary | {s['blackbox_binary']} | {s['blackbox_binary'] / 2**20:.2f} |")
        add(f"| curl binary (without libcurl) | {s['curl_binary']} | {s['curl_binary'] / 2**20:.3f} |")
        add("")
        goals.append((f"binary ≤ {GOAL_BINARY_BYTES:,} bytes (4.5 MB)",
                      f"{s['ours_binary']:,} bytes; package {s['ours_package']:,} bytes",
                      s["ours_binary"] <= GOAL_BINARY_BYTES))

    if "accuracy" in r:
        d = {peer: {k: S(x) for k, x in ms.items()} for peer, ms in r["accuracy"].items()}
        delay = p["accuracy_delay_ms"]
        add("## Accuracy")
        add("")
        add(f"The backend's `/delay/{delay}` waits {delay} ms before its response head. "
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

    if "cold_https" in r:
        ch = {k: S(x) for k, x in r["cold_https"].items()}
        add("## Cold start, https target")
        add("")
        add("As *Cold start*, for ours with `APIGW_URL` an https URL of the stand-in's TLS 1.3 "
            "backend and `APIGW_CA_FILE` the run's test CA: the CA file is read and checked before "
            "the port accepts; the first `/invoke` builds the TLS configuration (the built-in "
            "roots and the CA's) and makes a whole TLS handshake.")
        add("")
        # Runs before the tenth pass did not record the first probe's own time.
        cols = [("TCP ready (ms)", "tcp_ready"), ("first /invoke 200 (ms)", "first_invoke"),
                ("of it, the probe (`duration_ms`)", "first_probe"),
                ("of that, the TLS handshake (`phases_ms.tls`)", "first_tls")]
        cols = [(head, k) for head, k in cols if k in ch]
        add("| | " + " | ".join(head for head, _ in cols) + " |")
        add("|---" * (len(cols) + 1) + "|")
        add("| ours, https target | " + " | ".join(ch[k].fmt() for _, k in cols) + " |")
        of_it = (f"; the probe {ch['first_probe'].median:.2f} ms of it, its handshake "
                 f"{ch['first_tls'].median:.2f} ms" if "first_tls" in ch else "")
        add("")
        med = ch["first_invoke"].median
        goals.append((f"cold start with an https target ≤ {GOAL_COLD_START_HTTPS_MS:g} ms "
                      "(spawn → first /invoke answered)",
                      f"{med:.2f} ms (TCP ready {ch['tcp_ready'].median:.2f} ms{of_it}{floor}"
                      f"{' (*Cold start*)' if fl else ''})",
                      med <= GOAL_COLD_START_HTTPS_MS))

    if "https_invoke" in r:
        hi = r["https_invoke"]
        i = {k: S(x) for k, x in hi.items()}
        paired = Stats([d / c for d, c in zip(hi["ours_duration"]["samples"],
                                              hi["curl_total"]["samples"]) if c > 0])
        od, ct = i["ours_duration"].median, i["curl_total"].median
        over = od / ct - 1 if ct else float("nan")
        add("## Invocation, https")
        add("")
        add("As *Invocation*, against the stand-in backend over TLS 1.3 with the run's test CA "
            "(ECDSA P-256 certificate), a fresh connection and a whole handshake each time; "
            "curl with `--cacert` the same CA. Pairs back to back.")
        add("")
        add("| | median (min–max, n) ms |")
        add("|---|---|")
        add(f"| ours: the prober's own time (`duration_ms`) | {i['ours_duration'].fmt(3)} |")
        add(f"| ours: the sample's `phases_ms.total` | {i['ours_phases_total'].fmt(3)} |")
        add(f"| ours: the sample's `phases_ms.tls` | {i['ours_tls'].fmt(3)} |")
        add(f"| curl: `time_total` | {i['curl_total'].fmt(3)} |")
        add(f"| curl: `time_pretransfer − time_connect` (its TLS handshake) | {i['curl_tls'].fmt(3)} |")
        add(f"| **ours ÷ curl** (`duration_ms` ÷ `time_total`) | {ratio(od, ct)} ({over * 100:+.1f} %); "
            f"paired {paired.median:.2f}× |")
        add("")
        goals.append((f"https probe overhead over curl ≤ {GOAL_OVERHEAD * 100:.0f} % (`duration_ms` "
                      "vs curl's `time_total`)",
                      f"{over * 100:+.1f} % ({od:.3f} vs {ct:.3f} ms; paired "
                      f"{(paired.median - 1) * 100:+.1f} %)", over <= GOAL_OVERHEAD))

    if "https_throughput" in r:
        add("## Probe throughput, https")
        add("")
        add(f"As *Probe throughput*, against the stand-in backend serving TLS 1.3 only, then TLS "
            "1.2 only (ECDSA P-256 certificate from the run's test CA; ours with `APIGW_CA_FILE`, "
            "blackbox_exporter with a module `https_2xx` whose `tls_config.ca_file` is that CA). "
            "A fresh connection and a whole handshake per probe (neither peer resumes sessions). "
            f"{p['wrk_repeats']} run(s) per cell, peers alternating. CPU: each process's user + "
            f"system time ({CPU_SOURCE}) over the run ÷ probes; the backend's is its share "
            f"of the same run (it and wrk run on the same {m['cpus']} CPUs as the peer, so "
            "probes/s is bounded by their cost too, the prober's own cost is the CPU column). "
            "*Machine busy*: every CPU's busy time (`/proc/stat`) over the run ÷ the time the "
            "CPUs had, in ours' runs / blackbox's; *ours' threads*: how many CPUs ours can use "
            "at most, and how much of them its CPU per probe × probes/s took. *Ours' CPU for "
            f"{GOAL_HTTPS_RATIO:g}×*: the most CPU per probe ours could spend and still make "
            f"{GOAL_HTTPS_RATIO:g}× blackbox's probes/s here, the smaller of two limits: the "
            f"machine's ({m['cpus']} CPUs × 1 s ÷ ({GOAL_HTTPS_RATIO:g} × blackbox's probes/s), "
            "less the rest of the machine per probe as it was in ours' runs: the backend, wrk, "
            "the kernel's work outside ours) and ours' threads' (threads × 1 s ÷ the same "
            "rate). When it is below what ours spent, the cell cannot reach the ratio without "
            "ours costing less (below zero, whatever ours costs); above, something else holds "
            "the cell back (at concurrency 1, each probe's latency: one probe at a time).")
        add("")
        add("| TLS | concurrency | ours probes/s | blackbox probes/s | ours ÷ blackbox | "
            "CPU ms per probe: ours / blackbox / backend | blackbox ÷ ours CPU | "
            f"machine busy | ours' threads | ours' CPU for {GOAL_HTTPS_RATIO:g}× | "
            "errors ours / blackbox |")
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        worst = []
        for version, t in r["https_throughput"].items():
            for oc, bc in zip(t["ours"], t["blackbox"]):
                o, b = S(oc["probes_per_s"]), S(bc["probes_per_s"])
                cpu, busy, threads, room_txt = "n/a | n/a", "n/a", "n/a", "n/a"
                oc_cpu = room = None
                if "cpu_ms_per_probe" in oc and "cpu_ms_per_probe" in bc:
                    oc_cpu, bc_cpu = S(oc["cpu_ms_per_probe"]).median, S(bc["cpu_ms_per_probe"]).median
                    back = Stats(S(oc["backend_cpu_ms_per_probe"]).values
                                 + S(bc["backend_cpu_ms_per_probe"]).values).median
                    cpu = f"{oc_cpu:.3f} / {bc_cpu:.3f} / {back:.3f} | {ratio(bc_cpu, oc_cpu)}"
                # Runs before the tenth pass recorded neither the machine's time nor threads.
                if oc_cpu is not None and oc.get("threads") and "machine_cpu_ms_per_probe" in bc:
                    capacity = m["cpus"] * 1000.0  # CPU ms the machine has per second
                    usable = min(oc["threads"], m["cpus"]) * 1000.0  # and ours' threads
                    mo = S(oc["machine_cpu_ms_per_probe"]).median
                    mb = S(bc["machine_cpu_ms_per_probe"]).median
                    busy = (f"{mo * o.median / capacity * 100:.0f} % / "
                            f"{mb * b.median / capacity * 100:.0f} %")
                    threads = f"{oc['threads']}, {oc_cpu * o.median / usable * 100:.0f} %"
                    if b.median:
                        goal_rate = GOAL_HTTPS_RATIO * b.median
                        room = min(capacity / goal_rate - (mo - oc_cpu), usable / goal_rate)
                        room_txt = f"{room:.3f} ms"
                add(f"| {version[3:]} | {oc['concurrency']} | {o.fmt(0)} | {b.fmt(0)} | "
                    f"{ratio(o.median, b.median)} | {cpu} | {busy} | {threads} | {room_txt} | "
                    f"{sum(oc['errors'])} / {sum(bc['errors'])} |")
                worst.append((o.median / b.median if b.median else float("nan"),
                              version[3:], oc["concurrency"], room, oc_cpu))
        add("")
        low = min(worst, key=lambda w: w[0])
        bound = (f"; there, {GOAL_HTTPS_RATIO:g}× would leave ours {low[3]:.3f} ms of CPU per probe "
                 f"(it spent {low[4]:.3f})" if low[3] is not None else "")
        goals.append((f"https probes/s ≥ {GOAL_HTTPS_RATIO:g}× blackbox_exporter at every "
                      "concurrency, TLS 1.3 and 1.2",
                      f"lowest {low[0]:.2f}× (TLS {low[1]}, c{low[2]}){bound}",
                      all(w[0] >= GOAL_HTTPS_RATIO for w in worst)))

    if "signed" in r:
        sg = r["signed"]
        add("## The signed path")
        add("")
        add(f"Ours `GET /probe?module=…&target=…` through the stand-in gateway (its own process, "
            "with the stand-in DNS answering the group's VPC domain), `POST` of a "
            f"{sg['body_bytes']}-byte JSON body: module `signed` (`auth: app`, HMAC-SHA256, "
            "Content-MD5 of the body) and module `unsigned` (`auth: none`), both timed against an "
            "anonymous API, so that the gateway's work is the same and the difference is ours "
            "(the signed module was first shown to pass on an API that requires the app's "
            "signature, where the unsigned one fails). `wrk` "
            f"{sg.get('run_seconds', p['wrk_seconds'])} s per run, "
            f"{len(S(sg['signed'][0]['probes_per_s']).values)} "
            "pairs of runs (unsigned, signed) back to back in alternating order (ABBA). CPU: the "
            f"process's user + system time ({CPU_SOURCE}) over the run ÷ probes. The goal "
            "is judged on the median of the pairs' own CPU differences: the signature's few µs "
            "are well inside the spread between separate runs on a shared machine.")
        add("")
        add("| | probes/s | CPU ms per probe | errors |")
        add("|---|---|---|---|")
        cpu = {}
        for k in ("unsigned", "signed"):
            cell = sg[k][0]
            cpu[k] = S(cell["cpu_ms_per_probe"])
            add(f"| {k} (c{cell['concurrency']}) | {S(cell['probes_per_s']).fmt(0)} | "
                f"{cpu[k].fmt(4)} | {sum(cell['errors'])} |")
        u, sgd = cpu["unsigned"].median, cpu["signed"].median
        share = (sgd - u) / u if u else float("nan")
        add(f"| **signed − unsigned** (medians) | {ratio(S(sg['signed'][0]['probes_per_s']).median, S(sg['unsigned'][0]['probes_per_s']).median)} "
            f"of the rate | {sgd - u:+.4f} ms ({share * 100:+.1f} %) | |")
        paired = sg.get("paired_cpu_share")
        if paired:
            pct = Stats([x * 100 for x in paired["samples"]])
            ci = pct.median_interval()
            ci = f"; 95 % interval of the median {ci[0]:+.1f} to {ci[1]:+.1f} %" if ci else ""
            add(f"| **signed − unsigned** (median of the pairs) | | {pct.fmt(1)} %{ci} | |")
            judged, how = S(paired).median, f"median of {len(pct.values)} pairs{ci}"
        else:  # runs recorded before the pairs were
            judged, how = share, "difference of the medians"
        add("")
        goals.append((f"the signature costs < {GOAL_SIGNED_SHARE * 100:.0f} % of a loopback probe "
                      "(CPU per probe, signed vs unsigned)",
                      f"{judged * 100:+.1f} % ({how}; medians {sgd:.4f} vs {u:.4f} ms)",
                      judged < GOAL_SIGNED_SHARE))

    if "c1000" in r:
        cm = r["c1000"]
        n = p["c1000_clients"]
        add(f"## {n} concurrent invocations")
        add("")
        add(f"{n} invocations at once (a barrier releases {n} client threads), each probing "
            f"`/delay/{p['c1000_delay_ms']}` (the backend answers after "
            f"{p['c1000_delay_ms'] / 1000:g} s), once per peer. Ours with the trust limits at their "
            f"defaults except `APIGW_MAX_CONNECTIONS={cm['ours']['max_connections']}` (the default, "
            "64, answers the rest `503 runtime.busy`); blackbox_exporter through its `/probe`; the "
            "seed forks a curl per invocation. MiB; the process tree's peak is VmRSS summed over "
            "the process and its children, sampled every 5 ms.")
        add("")
        add("| | VmHWM | process tree peak | answered 200 | wall (s) |")
        add("|---|---|---|---|---|")
        for name in ("ours", "blackbox", "seed"):
            x = cm[name]
            add(f"| {name} | {x['loaded_hwm_mib']:.1f} | {x['loaded_tree_peak_mib']:.1f} | "
                f"{x['answered_200']}/{x['invocations']}"
                + "".join(f", {cnt} × {k}" for k, cnt in x["failed"].items())
                + f" | {x['wall_s']:.2f} |")
        o = cm["ours"]
        for peer in ("blackbox", "seed"):
            add(f"| **{peer} ÷ ours** | {ratio(cm[peer]['loaded_hwm_mib'], o['loaded_hwm_mib'])} | "
                f"{ratio(cm[peer]['loaded_tree_peak_mib'], o['loaded_tree_peak_mib'])} | | |")
        add("")
        goals.append((f"{n} concurrent invocations: every one answered, VmHWM ≤ "
                      f"{GOAL_C1000_MIB:g} MiB", f"{o['answered_200']}/{o['invocations']} "
                      f"answered, {o['loaded_hwm_mib']:.1f} MiB",
                      o["answered_200"] == o["invocations"] == n
                      and o["loaded_hwm_mib"] <= GOAL_C1000_MIB))

    if "scrapes" in r:
        sc = r["scrapes"]
        add("## Metrics scrapes")
        add("")
        add("`GET /probe?module=http_2xx&target=<the backend's /web/cloudapi>` in the Prometheus "
            f"text format, ours and blackbox_exporter, and ours' JSON form of the same probe "
            f"(`/probe?url=…`), `wrk` {p['wrk_seconds']} s × {p['wrk_repeats']} per cell, the three "
            f"alternating. Ours' scrape is {sc['ours_scrape_bytes']} bytes. The exposition's share: "
            "(time per scrape − time per JSON probe) ÷ time per scrape, from the two rates.")
        add("")
        add("| concurrency | ours scrapes/s | blackbox scrapes/s | ours ÷ blackbox | ours JSON probes/s | exposition's share | errors ours / blackbox |")
        add("|---|---|---|---|---|---|---|")
        wins = []
        for oc, bc, jc in zip(sc["ours"], sc["blackbox"], sc["ours_json"]):
            o, b, j = S(oc["probes_per_s"]), S(bc["probes_per_s"]), S(jc["probes_per_s"])
            share = 1 - o.median / j.median if j.median else float("nan")
            add(f"| {oc['concurrency']} | {o.fmt(0)} | {b.fmt(0)} | {ratio(o.median, b.median)} | "
                f"{j.fmt(0)} | {share * 100:+.1f} % | {sum(oc['errors'])} / {sum(bc['errors'])} |")
            wins.append((oc["concurrency"], o.median, b.median))
        add("")
        goals.append(("more metrics scrapes/s than blackbox_exporter at every concurrency",
                      ", ".join(f"c{c}: {o:.0f} vs {b:.0f}" for c, o, b in wins),
                      all(o > b for _, o, b in wins)))

    if "crosscheck" in r:
        cc = r["crosscheck"]
        w, wo = cc["with_wall"]["samples"], cc["without_wall"]["samples"]
        added = Stats([a - b for a, b in zip(w, wo)])
        add("## The cross-check's cost")
        add("")
        add("A failing invocation (the stand-in world's group whose VPC domain is disabled: "
            "`dns.nxdomain`) with the configuration cross-check (`APIGW_CONFIG_CHECK=on-failure`, "
            "every OpenAPI endpoint at the stand-in control plane over loopback HTTP, the role's "
            "stand-in STS credentials in FC's headers) and without it (`off`), two processes, "
            f"interleaved; verdict `{cc['verdict']}`. Added time: each pair's wall difference.")
        add("")
        add("| | median (min–max, n) ms |")
        add("|---|---|")
        add(f"| with the cross-check: `/invoke` wall | {S(cc['with_wall']).fmt(3)} |")
        add(f"| without: `/invoke` wall | {S(cc['without_wall']).fmt(3)} |")
        add(f"| **added** (paired) | {added.fmt(3)} |")
        add(f"| the report's `config_check.duration_ms` | {S(cc['check_duration']).fmt(3)} |")
        add("")
        add(f"A control plane that does not help, with FC's timeout {cc['fc_timeout_ms'] / 1000:g} s "
            f"(the function's own deadline {cc['deadline_ms']} ms: the timeout less "
            "`APIGW_BUDGET_MARGIN_MS`, kept back to answer in time): every OpenAPI call answered "
            f"{p['crosscheck_slow_ms']} ms late (*slow*), never answered (*hanging*), or nothing "
            "listening (*unreachable*). The runner fails if an answer comes after FC's timeout.")
        add("")
        add("| control plane | `/invoke` wall ms | verdicts |")
        add("|---|---|---|")
        late = []
        for fault, x in cc["faults"].items():
            add(f"| {fault} | {S(x['wall']).fmt(1)} | {', '.join(sorted(set(map(str, x['verdicts']))))} |")
            late.append((S(x["wall"]).max, fault))
        add("")
        worst = max(late)
        goals.append(("a slow, hanging or unreachable control plane never pushes the answer past "
                      "the invocation's deadline (FC's timeout)",
                      f"latest answer {worst[0]:.0f} ms ({worst[1]}); FC's timeout "
                      f"{cc['fc_timeout_ms']} ms, the function's own deadline {cc['deadline_ms']} ms",
                      worst[0] <= cc["fc_timeout_ms"]))

    add("## Goals")
    add("")
    add("| goal | measured | met |")
    add("|---|---|---|")
    for g, measured_text, met in goals:
        add(f"| {g} | {measured_text} | {'yes' if met else '**no**'} |")
    add("")
    if not run["quick"]:
        add("## What was tried for speed")
        add("")
        add("See [bench/NOTES.md](bench/NOTES.md) (kept by hand; the tables above are this run's).")
        add("")
    return "\n".join(L)


def write_markdown(json_path, out):
    """Renders the JSON at `json_path` into `out`; the only way Markdown is written."""
    with open(json_path) as f:
        doc = json.load(f)
    name = os.path.relpath(json_path, os.path.dirname(os.path.abspath(out)))
    with open(out, "w") as f:
        f.write(render(doc, name) + "\n")


# ---------------------------------------------------------------- command line


def measure_main(argv):
    ap = argparse.ArgumentParser(
        prog="bench/run.py [measure]",
        description="Measure, write every number to a JSON file, render the Markdown from it. "
        "`bench/run.py render RUN.json [--out RUN.md]` re-renders a saved run without measuring.")
    ap.add_argument("--bin", required=True, help="the apigw-vpc-probe binary to measure")
    ap.add_argument("--bin-label", default="release build", help="how the binary was built")
    ap.add_argument("--standin", default="", metavar="COMMAND",
                    help="the stand-in's command (a binary, with arguments if any), to which the "
                    "runner appends e.g. `backend --listen …` (default: `<--bin> standin`)")
    ap.add_argument("--package", default="", help="the deployment package (zip), if built")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"), help="the Markdown")
    ap.add_argument("--json", default="", help="the run's data (default: --out with .json)")
    ap.add_argument("--quick", action="store_true", help="few repetitions: a smoke test")
    # The seed peer runs on the Debian python3 (what a custom.debian12 image would have).
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
    ap.add_argument("--curl", default="curl")
    ap.add_argument("--wrk", default="wrk")
    ap.add_argument("--blackbox", default="prometheus-blackbox-exporter")
    ap.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for ours (experiments, e.g. RUST_LOG=warn)")
    ap.add_argument("--runs", type=int, default=0,
                    help="runs per peer of cold start, invocation and accuracy (experiments)")
    ap.add_argument("--concurrency", default="1,10,100",
                    help="throughput: wrk's connection counts, comma-separated (default 1,10,100)")
    ap.add_argument("--mem-clients", type=int, default=100,
                    help="memory: invocations at once under load (default 100)")
    ap.add_argument("--c1000-clients", type=int, default=1000,
                    help="1,000 invocations step: how many at once (default 1000)")
    ap.add_argument("--scrape-concurrency", default="10,100",
                    help="metrics scrapes: wrk's connection counts (default 10,100)")
    ap.add_argument("--signed-concurrency", type=int, default=10,
                    help="signed path: wrk's connection count (default 10)")
    ap.add_argument("--openssl", default="openssl", help="makes the https steps' test CA")
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(STEPS))
    args = ap.parse_args(argv)
    args.cold_runs = 5 if args.quick else 41
    args.invoke_runs = 20 if args.quick else 200
    args.wrk_seconds = 1 if args.quick else 5
    args.wrk_repeats = 1 if args.quick else 3
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    args.mem_rounds = 1 if args.quick else 3
    args.accuracy_runs = 5 if args.quick else 30
    args.crosscheck_runs = 5 if args.quick else 30
    args.fault_runs = 1 if args.quick else 3
    args.scrape_concurrency = [int(c) for c in args.scrape_concurrency.split(",") if c]
    # After every default it overrides: it once came before accuracy_runs and never reached it.
    if args.runs:
        args.cold_runs = args.invoke_runs = args.accuracy_runs = args.crosscheck_runs = args.runs
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in STEPS]
    if unknown:
        sys.exit(f"bench: unknown step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
    json_path = args.json or os.path.splitext(args.out)[0] + ".json"
    for tool in (args.curl, args.wrk, args.blackbox, args.python, args.openssl):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found (make bench installs it)")
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"bench: {args.bin} is not an executable")
    if args.standin and not shutil.which(shlex.split(args.standin)[0]):
        sys.exit(f"bench: the stand-in {args.standin} is not an executable")

    b = Bench(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = now()
    load_start = loadavg()
    log(f"load average {' '.join(map(str, load_start))}; binary {args.bin}")
    b.start_backend()
    # Peers interleaved within every step; the steps in this order.
    steps = {"cold": b.cold_start, "cold_https": b.cold_https, "invoke": b.invocation,
             "https_invoke": b.https_invoke, "memory": b.memory, "c1000": b.c1000,
             "throughput": b.throughput, "https_throughput": b.https_throughput,
             "scrapes": b.scrapes, "signed": b.signed, "crosscheck": b.crosscheck,
             "accuracy": b.accuracy}
    try:
        for name, step in steps.items():
            if not only or name in only:
                step()
        b.sizes()
    finally:
        b.stop_standins()
        b.stop_backend()
        shutil.rmtree(b.tmp, ignore_errors=True)
    doc = {
        "schema": SCHEMA,
        "run": {
            "started": started.isoformat(timespec="seconds"),
            "elapsed_s": round(now() - t0, 1),
            "quick": args.quick,
            "steps": list(b.results),
        },
        "machine": b.machine(),
        "load": {"start": load_start, "end": loadavg()},
        "versions": b.versions(),
        "ours": {
            "binary": os.path.relpath(b.bin, ROOT),
            "label": args.bin_label,
            "standin": " ".join([os.path.basename(b.standin[0])] + b.standin[1:]),
        },
        "params": b.params(),
        "results": b.results,
    }
    plain = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)
    # A list of numbers on one line: a sample list reads as a row, not 200 lines.
    text = re.sub(r"\[\s*((?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", plain)
    if json.loads(text) != doc:  # the pattern met a string that looks like a list
        text = plain
    with open(json_path, "w") as f:
        f.write(text + "\n")
    write_markdown(json_path, args.out)
    log(f"wrote {json_path} and {args.out} in {doc['run']['elapsed_s']:.0f} s")


def render_main(argv):
    ap = argparse.ArgumentParser(
        prog="bench/run.py render",
        description="Render the Markdown from a saved run's JSON, without measuring.")
    ap.add_argument("json", help="a run's JSON, as `measure` wrote it")
    ap.add_argument("--out", default="", help="the Markdown (default: the JSON's path with .md)")
    args = ap.parse_args(argv)
    out = args.out or os.path.splitext(args.json)[0] + ".md"
    if not os.path.exists(args.json):
        sys.exit(f"bench: no {args.json} (bench/run.py, or make bench, writes it)")
    write_markdown(args.json, out)
    log(f"rendered {out} from {args.json}")


STEPS = ("cold", "cold_https", "invoke", "https_invoke", "memory", "c1000", "throughput",
         "https_throughput", "scrapes", "signed", "crosscheck", "accuracy")


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["render"]:
        render_main(argv[1:])
    else:
        measure_main(argv[1:] if argv[:1] == ["measure"] else argv)


if __name__ == "__main__":
    main()
