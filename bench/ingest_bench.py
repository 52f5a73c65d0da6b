"""Ingest benchmark: delivery rate and latency of ingest against two baselines, in one run.

    .venv/bin/python -m bench.ingest_bench [--deliveries 4000] [--concurrency 32] [--workers 2]

Scenarios, all on the local stack (Kafka, PostgreSQL) and this machine's cores:
  (a) bare     a FastAPI endpoint that answers 200 and does nothing, same uvicorn settings;
  (b) kafka    aiokafka producing the same body bytes directly (idempotent, acks=all), one
               send_and_wait in flight per "connection", per-message ack latency;
  (c) ingest   the real service as its own process, signed WooCommerce deliveries over HTTP/1.1
               keep-alive from a separate load-generator process (bench/loadgen.py);
  (d) relay    from the first delivery of the burst until the outbox is empty (events/s),
               against the rate at which deliveries produced events.
Each HTTP scenario runs in three load shapes: "saturating" (every connection sends its next
delivery as soon as the previous answer arrives: the capacity), "stores" (each connection is a
store's queue runner spending --think-ms of its own per delivery, ~13 ms for WooCommerce: latency
under a burst of --concurrency stores) and "light" (--light-stores such stores: latency when
ingest isn't busy).

Isolation: ingest runs in its own PostgreSQL schema (aftercart_bench in the ingest database of
the stack's PostgreSQL, dropped at start and end), and publishes to a Kafka broker of its own
(the stack's Kafka 4 jars and configuration, under .state/bench-kafka, on free ports, with a fresh
log, stopped and wiped at the end): the benchmark's thousands of orders must never reach the notifier, loyalty or reviews
consumers of the shared broker (they would send real emails to the mail sink). `--kafka stack`
uses the stack's broker instead, only when no consumer service is running.
Results: a table on stdout and JSON in bench/results/ (gitignored). See bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import pickle
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx

from bench.deliveries import Plan, build_plan, stores

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
SCHEMA = "aftercart_bench"
BENCH_TOPIC = "aftercart-bench.deliveries"
TARGETS = {"rate": 2000.0, "rate_vs_bare": 0.5, "p50_ms": 5.0, "p99_ms": 50.0,
           "relay_vs_arrival": 0.95, "relay_tail_ms": 1000.0}  # relay: ratio and how soon the outbox is empty
CLK = os.sysconf("SC_CLK_TCK")
KAFKA_MARKER = ["kafka.Kafka"]  # narrowed to the private broker's command line when it runs


# --- CPU accounting from /proc (who used the 2 cores during a scenario) ---------------------------

def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _all_procs() -> list[tuple[int, int, str, str]]:
    """(pid, ppid, comm, cmdline) of every process."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                raw = f.read()
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            ppid = int(raw.rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append((int(d), ppid, comm, cmd))
        except (OSError, ValueError):
            continue
    return out


def _tree(root: int, procs: list[tuple[int, int, str, str]]) -> set[int]:
    pids, changed = {root}, True
    while changed:
        changed = False
        for pid, ppid, _, _ in procs:
            if ppid in pids and pid not in pids:
                pids.add(pid)
                changed = True
    return pids


def _total_busy() -> int:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]  # minus idle and iowait


def cpu_snapshot(server_pid: int | None, loadgen_pid: int | None) -> dict[str, int]:
    procs = _all_procs()
    groups = {"server": _tree(server_pid, procs) if server_pid else set(),
              "loadgen": {loadgen_pid} if loadgen_pid else set(), "bench": {os.getpid()},
              "postgres": {p for p, _, comm, cmd in procs if comm.startswith("postgres")},
              "kafka": {p for p, _, comm, cmd in procs if KAFKA_MARKER[0] in cmd}}
    snap = {name: sum(_proc_ticks(p) for p in pids) for name, pids in groups.items()}
    snap["total"] = _total_busy()
    return snap


def cpu_delta(a: dict[str, int], b: dict[str, int], wall: float) -> dict[str, float]:
    """Cores used by each group during the interval (1.0 = one core busy all the time)."""
    d = {k: (b[k] - a[k]) / CLK / wall for k in a}
    d["other"] = d["total"] - sum(v for k, v in d.items() if k != "total")
    return {k: round(v, 2) for k, v in d.items()}


# --- helpers ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def lat_stats(lat_us: list[int]) -> dict[str, float]:
    ms = [x / 1000 for x in lat_us]
    return {"p50_ms": round(pct(ms, 50), 2), "p90_ms": round(pct(ms, 90), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


def ensure_stack() -> None:
    from deploy.local.stack import runner
    rows = runner.status(quiet=True)
    if all(r["state"] == "up" for r in rows):
        return
    print("starting the local stack (aftercart stack up) ...", flush=True)
    runner.up(wait=True)


class BenchKafka:
    """A private single-node broker, same jars and settings as the stack's, on free ports."""

    def __init__(self) -> None:
        from deploy.local.stack.config import StackSettings
        self.settings = StackSettings(state_dir=ROOT / ".state" / "bench-kafka", kafka_port=free_port(),
                                      kafka_controller_port=free_port())
        self.comp = None

    def start(self) -> str:
        from deploy.local.stack import kafka, procs
        from deploy.local.stack.runner import _kafka_ready
        s = self.settings
        for d in (s.state_dir, s.logs_dir, s.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(s.kafka_dir / "data", ignore_errors=True)  # a fresh log each run: nothing piles up
        kafka.prepare(s)
        self.comp = kafka.component(s)
        procs.start(s, self.comp)
        KAFKA_MARKER[0] = self.comp.marker
        asyncio.run(_kafka_ready(s, 120))
        return s.bootstrap_servers()

    def stop(self) -> None:
        if self.comp is not None:
            from deploy.local.stack import procs
            procs.stop(self.settings, self.comp)
            shutil.rmtree(self.settings.kafka_dir / "data", ignore_errors=True)


def ingest_dsn() -> str:
    from deploy.local.stack.config import service_dsn
    return service_dsn("ingest") + f"?search_path={SCHEMA}"


async def reset_schema(drop_only: bool = False) -> None:
    from deploy.local.stack.config import service_dsn
    conn = await asyncpg.connect(service_dsn("ingest"))
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        if not drop_only:
            await conn.execute(f"CREATE SCHEMA {SCHEMA}")
    finally:
        await conn.close()


@dataclass
class Mode:
    """One load shape: which plan, the stores' own time per delivery, a label."""
    name: str  # saturating | stores | light
    label: str
    plan: Plan
    think_ms: float
    plan_file: Path | None = None


@dataclass
class Server:
    name: str
    app: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    cwd: Path = ROOT
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def start(self, logdir: Path) -> None:
        # Workers that share connections (shared/service/serve.py; shared/serve.py in older checkouts).
        serve = next((m for m in ("shared.service.serve", "shared.serve")
                      if (self.cwd / (m.replace(".", "/") + ".py")).exists()), None)
        if serve:
            argv = [PY, "-m", serve, self.app, "--host", "127.0.0.1", "--port", str(self.port),
                    "--workers", str(self.workers), "--log-level", "warning"]
        else:  # an older checkout (--ingest-src): uvicorn's own workers
            argv = [PY, "-m", "uvicorn", self.app, "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                    "--no-access-log", "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
            if self.workers > 1:
                argv += ["--workers", str(self.workers)]
        self.log = logdir / f"{self.name}.log"
        self.proc = subprocess.Popen(argv, cwd=self.cwd, env={**os.environ, **self.env},
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_loadgen(plan_file: Path, port: int, think_ms: float, server_pid: int, timeout: float) -> dict:
    """Start the load generator, let it warm up, then time the burst and sample CPU around it."""
    lg = subprocess.Popen([PY, "-m", "bench.loadgen", "--plan", str(plan_file), "--port", str(port),
                           "--think-ms", str(think_ms), "--timeout", str(timeout)], cwd=ROOT,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = lg.stdout.readline()
    if line.strip() != "READY":
        lg.kill()
        raise RuntimeError(f"load generator failed during warm-up: {line!r}")
    return _finish_loadgen(lg, server_pid)


def _finish_loadgen(lg: subprocess.Popen, server_pid: int) -> dict:
    c0, t0 = cpu_snapshot(server_pid, lg.pid), time.monotonic()
    lg.stdin.write("GO\n")
    lg.stdin.flush()
    out = lg.stdout.readline()
    c1, t1 = cpu_snapshot(server_pid, lg.pid), time.monotonic()
    lg.wait(30)
    if not out:
        raise RuntimeError("load generator produced no result")
    res = json.loads(out)
    res["cpu_cores"] = cpu_delta(c0, c1, t1 - t0)
    return res


def summarise_http(name: str, res: dict) -> dict:
    lat = res.pop("latencies_us")
    n = res["requests"]
    row = {"scenario": name, "deliveries": n, "rate": round(n / res["elapsed_s"], 1), **lat_stats(lat),
           "codes": res["codes"], "outcomes": res["outcomes"], "events": res["events"],
           "elapsed_s": round(res["elapsed_s"], 3), "start_wall": res["start_wall"],
           "errors": res["errors"], "timed_out": res["timed_out"], "connections": res["connections"],
           "think_ms": res["think_ms"], "cpu_cores": res["cpu_cores"],
           "loadgen_cpu_us_per_request": round(res["cpu_s"] / max(n, 1) * 1e6, 1),
           "loadgen_cpu_cores": round(res["cpu_s"] / res["elapsed_s"], 2)}
    return row


# --- scenarios -------------------------------------------------------------------------------------

def bare_scenarios(args, modes: list[Mode], logdir: Path) -> list[dict]:
    srv = Server("bare", "bench.bare_app:create_app", free_port(), workers=args.workers)
    srv.start(logdir)
    try:
        srv.wait_ready()
        rows = []
        for m in modes:  # the same request bytes as ingest gets (the bare app ignores them)
            row = summarise_http(f"bare, {m.label}", run_loadgen(m.plan_file, srv.port, m.think_ms,
                                                                  srv.proc.pid, args.timeout))
            rows.append({"mode": m.name, **row})
        return rows
    finally:
        srv.stop()


async def _kafka(args, plan: Plan) -> dict:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from shared.kafka.producer import create_producer
    bootstrap = args.bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if BENCH_TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(BENCH_TOPIC, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = create_producer(bootstrap, "aftercart-bench")  # the relay's settings: acks=all, idempotent
    await producer.start()
    try:
        for i in range(50):  # warm-up: metadata, connections
            await producer.send_and_wait(BENCH_TOPIC, b"warm-up", key=str(i).encode())
        lat: list[int] = []

        async def conn(c: int, bodies: list[tuple[str, bytes]]) -> None:
            half = len(bodies) // 2
            for i, (topic, body) in enumerate(bodies):
                t0 = time.perf_counter_ns()
                await producer.send_and_wait(BENCH_TOPIC, body, key=f"bench:{c}:{i % max(half, 1)}".encode(),
                                             headers=[("wc_topic", topic.encode())])
                lat.append((time.perf_counter_ns() - t0) // 1000)

        c0, w0, t0 = cpu_snapshot(None, None), time.time(), time.perf_counter()
        await asyncio.gather(*(conn(c, b) for c, b in enumerate(plan.bodies)))
        elapsed = time.perf_counter() - t0
        c1 = cpu_snapshot(None, None)
    finally:
        await producer.stop()
    return {"mode": "saturating", "scenario": f"kafka direct, {len(plan.bodies)} producers in parallel",
            "deliveries": len(lat),
            "rate": round(len(lat) / elapsed, 1), **lat_stats(lat), "elapsed_s": round(elapsed, 3),
            "start_wall": w0, "cpu_cores": cpu_delta(c0, c1, elapsed)}


def kafka_scenario(args, plan: Plan) -> dict:
    return asyncio.run(_kafka(args, plan))


async def _register(port: int, token: str, bench_stores) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        for s in bench_stores:
            r = await http.post("/stores", json={"store_id": s.store_id, "source_url": s.source_url,
                                                 "webhook_secret": s.secret})
            if r.status_code != 409:  # 409: registered by an earlier scenario of this run, as it is
                r.raise_for_status()


async def _wait_drained(expected_total: int, timeout: float) -> float:
    """Poll until every outbox row is published; returns the wall time it was seen empty."""
    conn = await asyncpg.connect(ingest_dsn())
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            total, pending = await conn.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox")
            if pending == 0 and total >= expected_total:
                return time.time()
            await asyncio.sleep(0.02)
        raise RuntimeError(f"outbox not drained after {timeout}s ({pending} pending, {total}/{expected_total})")
    finally:
        await conn.close()


async def _relay_stats(start_wall: float, end_wall: float, drained_wall: float) -> dict:
    conn = await asyncpg.connect(ingest_dsn())
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM created_at) AS c, extract(epoch FROM published_at) AS p FROM outbox"
            " WHERE created_at >= to_timestamp($1) ORDER BY seq", start_wall - 0.001)
        deliveries = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE received_at >= to_timestamp($1)", start_wall - 0.001)
    finally:
        await conn.close()
    n = len(rows)
    if not n:
        return {"events": 0}
    created = [float(r["c"]) for r in rows]
    published = [float(r["p"]) for r in rows]
    lag = [(p - c) * 1000 for c, p in zip(created, published)]
    marks = sorted([(c, 1) for c in created] + [(p, -1) for p in published])
    depth = peak = 0
    for _, d in marks:
        depth += d
        peak = max(peak, depth)
    arrival_s = max(end_wall - start_wall, 1e-6)
    last_pub = max(published)
    drain_s = max(last_pub - start_wall, 1e-6)
    return {"events": n, "deliveries_stored": deliveries,
            "arrival_events_per_s": round(n / arrival_s, 1), "drain_events_per_s": round(n / drain_s, 1),
            "relay_vs_arrival": round(arrival_s / drain_s, 3),
            # published_at is the relay transaction's start, so the last event can be marked a few ms
            # before the last response reaches the load generator: 0 then.
            "tail_after_last_delivery_ms": round(max(0.0, last_pub - end_wall) * 1000, 1),
            "seen_empty_after_last_delivery_ms": round((drained_wall - end_wall) * 1000, 1),
            "peak_backlog_events": peak,
            "publish_lag_p50_ms": round(pct(lag, 50), 1), "publish_lag_p99_ms": round(pct(lag, 99), 1),
            "publish_lag_max_ms": round(max(lag), 1)}


def _start_profiler(args, pid: int, label: str):
    """py-spy (pip install py-spy; not a dependency) sampling the server during the burst."""
    if not args.profile:
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"profile-{time.strftime('%Y%m%dT%H%M%S')}-{label}.txt"
    proc = subprocess.Popen([str(Path(PY).with_name("py-spy")), "record", "-p", str(pid), "--subprocesses",
                             "-r", "250", "--gil", "-f", "raw", "-o", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return proc


def _stop_profiler(proc) -> None:
    if proc is not None:
        import signal
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def ingest_scenarios(args, modes: list[Mode], bench_stores, logdir: Path) -> list[dict]:
    token = secrets.token_hex(16)
    srv = Server("ingest", "services.ingest.entrypoints.api:create_app", free_port(), workers=args.workers,
                 env={"AFTERCART_INGEST_DATABASE_URL": ingest_dsn(), "AFTERCART_INGEST_API_TOKEN": token,
                      # production mode needs a real key for store secrets at rest (one per run is enough)
                      "AFTERCART_INGEST_SECRETS_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                      "AFTERCART_INGEST_KAFKA_BOOTSTRAP": args.bootstrap,
                      "AFTERCART_INGEST_RECONCILE_INTERVAL_S": "0", "AFTERCART_INGEST_LOG_LEVEL": "WARNING",
                      **({"AFTERCART_INGEST_DB_POOL_MAX": str(args.pool_max)} if args.pool_max else {})},
                 cwd=Path(args.ingest_src).resolve() if args.ingest_src else ROOT)
    srv.start(logdir)
    rows = []
    try:
        srv.wait_ready(90)
        asyncio.run(_register(srv.port, token, bench_stores))
        for m in modes:
            lg = subprocess.Popen([PY, "-m", "bench.loadgen", "--plan", str(m.plan_file), "--port", str(srv.port),
                                   "--think-ms", str(m.think_ms), "--timeout", str(args.timeout)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            if lg.stdout.readline().strip() != "READY":
                lg.kill()
                raise RuntimeError(f"load generator failed during warm-up; see {srv.log}")
            # Start the burst on an empty outbox, so the relay figures are the burst's alone.
            asyncio.run(_wait_drained(0, 120))
            prof = _start_profiler(args, srv.proc.pid, m.name)
            res = _finish_loadgen(lg, srv.proc.pid)
            _stop_profiler(prof)
            row = {"mode": m.name, **summarise_http(f"ingest, {m.label}", res)}
            end_wall = row["start_wall"] + row["elapsed_s"]
            drained = asyncio.run(_wait_drained(0, 300))
            row["relay"] = asyncio.run(_relay_stats(row["start_wall"], end_wall, drained))
            row["relay"]["events_match_responses"] = row["relay"]["events"] == row["events"]
            rows.append(row)
        return rows
    finally:
        srv.stop()


# --- report ----------------------------------------------------------------------------------------

def report(result: dict) -> str:
    rows = result["scenarios"]
    bare = {r["mode"]: r for r in rows if r["scenario"].startswith("bare")}
    lines = [f"{'scenario':44} {'n':>5} {'rate/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
             f" {'rate/bare':>9} {'p50/bare':>8} | cores: server  pg kafka loadgen other"]
    for r in rows:
        b = bare.get(r["mode"])
        c = r.get("cpu_cores", {})
        own = c.get("server", 0) + (c.get("bench", 0) if r["scenario"].startswith("kafka") else 0)
        lines.append(f"{r['scenario']:44} {r['deliveries']:>5} {r['rate']:>7.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}"
                     f" {r['max_ms']:>7.1f} {r['rate'] / b['rate'] if b else 0:>9.2f}"
                     f" {r['p50_ms'] / b['p50_ms'] if b else 0:>8.1f} | {own:>14.2f} {c.get('postgres', 0):>4.2f}"
                     f" {c.get('kafka', 0):>5.2f} {c.get('loadgen', 0):>7.2f} {c.get('other', 0):>5.2f}")
    lines.append("(cores: CPU used during the timed part, 1.00 = one core; 'server' is the uvicorn process tree,"
                 " or the benchmark process itself for kafka direct)")
    lines.append("")
    for r in rows:
        if "relay" in r:
            rl = r["relay"]
            lines.append(f"relay, {r['scenario']}: {rl['events']} events arrived at {rl['arrival_events_per_s']:.0f}/s,"
                         f" drained at {rl['drain_events_per_s']:.0f}/s (ratio {rl['relay_vs_arrival']:.2f});"
                         f" outbox empty {rl['tail_after_last_delivery_ms']:.0f} ms after the last delivery;"
                         f" peak backlog {rl['peak_backlog_events']}; publish lag p50 {rl['publish_lag_p50_ms']:.0f} ms,"
                         f" p99 {rl['publish_lag_p99_ms']:.0f} ms")
            lines.append(f"   responses {r['codes']}, outcomes {r['outcomes']}; events in responses = outbox rows:"
                         f" {rl['events_match_responses']}")
    lg = bare.get("saturating")
    if lg:
        lines.append(f"load generator: {lg['loadgen_cpu_us_per_request']:.0f} µs CPU per request (one core ≈"
                     f" {1e6 / lg['loadgen_cpu_us_per_request']:.0f} req/s); {lg['loadgen_cpu_cores']:.2f} cores"
                     f" while driving the bare endpoint at {lg['rate']:.0f}/s")
    for k, (ok, val) in result.get("verdict", {}).items():
        lines.append(f"target {k:32} {'met' if ok else 'MISSED':7} {val}")
    return "\n".join(lines)


def verdict(rows: list[dict]) -> dict:
    by = {(r["scenario"].split(",")[0], r["mode"]): r for r in rows}
    sat, stores, bare = by.get(("ingest", "saturating")), by.get(("ingest", "stores")), by.get(("bare", "saturating"))
    if not sat or not bare:
        return {}
    lat = stores or sat
    relays = [r for r in rows if "relay" in r]
    return {
        f"≥ {TARGETS['rate']:.0f} deliveries/s": (sat["rate"] >= TARGETS["rate"], f"{sat['rate']:.0f}/s (saturating)"),
        "≥ half the bare endpoint's rate": (sat["rate"] >= TARGETS["rate_vs_bare"] * bare["rate"],
                                            f"{sat['rate'] / bare['rate']:.2f} × bare ({bare['rate']:.0f}/s)"),
        f"p50 < {TARGETS['p50_ms']:g} ms": (lat["p50_ms"] < TARGETS["p50_ms"], f"{lat['p50_ms']} ms ({lat['mode']})"),
        f"p99 < {TARGETS['p99_ms']:g} ms": (lat["p99_ms"] < TARGETS["p99_ms"], f"{lat['p99_ms']} ms ({lat['mode']})"),
        "relay drains as fast as arrivals": (
            all(r["relay"]["relay_vs_arrival"] >= TARGETS["relay_vs_arrival"]
                and r["relay"]["tail_after_last_delivery_ms"] < TARGETS["relay_tail_ms"] for r in relays),
            ", ".join(f"{r['mode']} {r['relay']['relay_vs_arrival']:.2f}" for r in relays)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deliveries", type=int, default=4000, help="timed deliveries per scenario")
    p.add_argument("--concurrency", type=int, default=32, help="connections = stores sending at once")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (bare and ingest alike)")
    p.add_argument("--think-ms", type=float, default=13.0,
                   help="a store's own time per delivery in the 'stores' and 'light' scenarios (0 = skip them)")
    p.add_argument("--light-stores", type=int, default=4,
                   help="stores in the 'light' scenario (a load ingest can absorb: latency without queueing)")
    p.add_argument("--warmup", type=int, default=10, help="untimed deliveries per connection first")
    p.add_argument("--pool-max", type=int, default=0, help="AFTERCART_INGEST_DB_POOL_MAX (0 = default)")
    p.add_argument("--timeout", type=float, default=240.0, help="seconds a load-generator burst may last")
    p.add_argument("--only", choices=["bare", "kafka", "ingest"], action="append",
                   help="run only these scenarios (repeatable); default all")
    p.add_argument("--kafka", choices=["own", "stack"], default="own",
                   help="own: a private broker for the run (default); stack: the stack's broker, whose"
                        " consumers would receive the benchmark's events")
    p.add_argument("--ingest-src", default="", help="run ingest from another checkout of the repository"
                   " (e.g. `git archive <commit>` unpacked somewhere) to compare before/after a change")
    p.add_argument("--profile", action="store_true", help="py-spy (pip install py-spy) the ingest server during"
                   " each burst; collapsed stacks in bench/results/profile-*.txt")
    p.add_argument("--label", default="", help="a note stored with the results")
    p.add_argument("--keep-data", action="store_true", help="keep the aftercart_bench schema afterwards")
    args = p.parse_args()
    only = set(args.only or ["bare", "kafka", "ingest"])

    ensure_stack()
    run_id = secrets.token_hex(3)
    seed = int(time.time()) % 100_000
    bench_stores = stores(run_id, args.concurrency)
    t_plan = time.monotonic()
    modes = [Mode("saturating", f"saturating ({args.concurrency} connections)",
                  build_plan(bench_stores, args.deliveries, args.warmup, seed * 10), 0.0)]
    if args.think_ms > 0:
        modes.append(Mode("stores", f"{args.concurrency} stores × {args.think_ms:g} ms",
                          build_plan(bench_stores, args.deliveries, args.warmup, seed * 10 + 1), args.think_ms))
        if 0 < args.light_stores < args.concurrency:
            light = min(args.deliveries, 250 * args.light_stores)
            modes.append(Mode("light", f"{args.light_stores} stores × {args.think_ms:g} ms",
                              build_plan(bench_stores[:args.light_stores], light, args.warmup, seed * 10 + 2),
                              args.think_ms))
    print(f"precomputed {sum(m.plan.timed_count for m in modes)} signed deliveries in {len(modes)} plans"
          f" (+{args.warmup} untimed per connection) in {time.monotonic() - t_plan:.1f}s", flush=True)

    started = datetime.now(timezone.utc)
    rows: list[dict] = []
    broker = BenchKafka() if args.kafka == "own" and only & {"kafka", "ingest"} else None
    try:
        if broker is not None:
            print("starting a private Kafka broker for the run ...", flush=True)
            args.bootstrap = broker.start()
        else:
            from deploy.local.stack.config import bootstrap_servers
            args.bootstrap = bootstrap_servers()
        _run(args, only, rows, modes, bench_stores)
    finally:
        if broker is not None:
            broker.stop()
    _write(args, started, rows)


def _run(args, only, rows, modes: list[Mode], bench_stores) -> None:
    with tempfile.TemporaryDirectory(prefix="aftercart-bench-") as tmp:
        tmpd = Path(tmp)
        for m in modes:
            m.plan_file = tmpd / f"{m.name}.pickle"
            with open(m.plan_file, "wb") as f:
                pickle.dump({"warmup": m.plan.warmup, "timed": m.plan.timed}, f)
        if "bare" in only:
            print("(a) bare endpoint ...", flush=True)
            rows += bare_scenarios(args, modes, tmpd)
        if "kafka" in only:
            print("(b) aiokafka direct ...", flush=True)
            rows.append(kafka_scenario(args, modes[0].plan))
        if "ingest" in only:
            print("(c, d) ingest + relay ...", flush=True)
            asyncio.run(reset_schema())
            try:
                rows += ingest_scenarios(args, modes, bench_stores, tmpd)
            except Exception:
                for log in tmpd.glob("*.log"):
                    print(f"--- {log.name} (tail)\n{log.read_text()[-3000:]}", file=sys.stderr)
                raise
            finally:
                if not args.keep_data:
                    asyncio.run(reset_schema(drop_only=True))


def _write(args, started, rows) -> None:
    result = {"date": started.isoformat(timespec="seconds"), "label": args.label,
              "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "command": " ".join([".venv/bin/python -m bench.ingest_bench"] + sys.argv[1:]),
              "settings": {k: v for k, v in vars(args).items()}, "scenarios": rows}
    if args.kafka == "own":
        result["settings"]["bootstrap"] = "private broker (.state/bench-kafka)"
    result["verdict"] = {k: list(v) for k, v in verdict(rows).items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ingest-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print()
    print(report(result))
    print(f"\nresults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
