"""Whole-stack benchmark: a signed WooCommerce webhook into ingest → the order's email accepted by
the SMTP sink, at a fixed rate, with all four services working; plus ingest's own response time.

    .venv/bin/python -m bench.notifier_stack_bench [--rate 100] [--seconds 60] [--ingest-rate 200]

What runs (isolated from everyone else's: a private Kafka broker — bench/ingest_bench.py's
BenchKafka —, a private durable mail sink, a schema of its own in each service's database, the
services on ports of their own, consumers under `nice` as `aftercart services up` runs them):
  (e) first email   the services report ready; one order is sent at once: time until its email;
  (b) end to end    --rate orders/s for --seconds (open loop: each order at its own time, never
                    waiting for the previous answer), each a paid order.created → one email
                    (welcome: every buyer is new); latency = the sink's Received-At − send time,
                    p50 / p99 over every order;
  (c) front door    ingest's own response times during (b), and during a --ingest-rate run;
  (d) CPU           each service process's CPU seconds during (b), per email and per order event.
The baseline for (c) is ingest answering alone (consumers stopped: SIGSTOP) in the same run.
JSON goes to bench/results/ (gitignored); the load average says how busy the machine was.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx

from bench.deliveries import HOOK_PATH, USER_AGENT, _fixture, _order_pair, stores
from bench.ingest_bench import BenchKafka, free_port
from bench.notifier_bench import Sink, cpu_s
from deploy.local.storesim.php_json import php_json_encode
from deploy.local.storesim.signing import sign

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCHEMA = "aftercart_stackbench"
SERVICES = ("ingest", "notifier", "loyalty", "reviews")
DSN = "postgresql://{0}:{0}@127.0.0.1:55432/{0}"
TOKEN = "bench-token-" + os.urandom(4).hex()


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1) if v else float("nan")


class Stack:
    def __init__(self, bootstrap: str, smtp_port: int, logdir: Path) -> None:
        self.bootstrap, self.smtp_port, self.logdir = bootstrap, smtp_port, logdir
        self.ports = {name: free_port() for name in SERVICES}
        self.procs: dict[str, subprocess.Popen] = {}

    def env(self, name: str) -> dict[str, str]:
        p = f"AFTERCART_{name.upper()}_"
        env = {**os.environ, "AFTERCART_ENV": "development", p + "PORT": str(self.ports[name]),
               p + "DATABASE_URL": f"{DSN.format(name)}?search_path={SCHEMA}", p + "KAFKA_BOOTSTRAP": self.bootstrap,
               p + "API_TOKEN": TOKEN, p + "CONSUMER_OFFSET_RESET": "earliest", p + "LOG_LEVEL": "WARNING"}
        if name == "ingest":
            env[p + "RECONCILE_INTERVAL_S"] = "0"
        if name == "notifier":
            env[p + "SMTP_PORT"] = str(self.smtp_port)
        return env

    def start(self) -> None:
        from deploy.local.services import _niced
        for name in SERVICES:
            argv = [*_niced(name), sys.executable, "-m", "shared.service.serve",
                    f"services.{name}.entrypoints.api:create_app", "--host", "127.0.0.1", "--port",
                    str(self.ports[name])]
            self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env(name), stdout=open(
                self.logdir / f"{name}.log", "ab"), stderr=subprocess.STDOUT)

    async def ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            for name, port in self.ports.items():
                while True:
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} not ready; see {self.logdir}/{name}.log")
                    await asyncio.sleep(0.1)

    def signal_consumers(self, sig: int) -> None:
        for name in SERVICES[1:]:
            if name in self.procs and self.procs[name].poll() is None:
                os.kill(self.procs[name].pid, sig)

    def stop(self) -> None:
        self.signal_consumers(signal.SIGCONT)  # a stopped process would not see its SIGTERM
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def schemas(drop_only: bool = False) -> None:
    for name in SERVICES:
        conn = await asyncpg.connect(DSN.format(name))
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            if not drop_only:
                await conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
        finally:
            await conn.close()


class Orders:
    """Paid order.created deliveries of one bench store, each its own order and buyer."""

    def __init__(self, run: int) -> None:
        self.store = stores(f"s{run}", 1)[0]
        self.docs, self.refunded = _fixture("order.v3.docs.json"), _fixture("order-partially-refunded.ios-fixture.json")
        self.t0 = datetime.now(timezone.utc).replace(microsecond=0)
        self.n, self.base = 0, run * 1_000_000

    def next(self) -> tuple[int, bytes, dict]:
        self.n += 1
        order_id = self.base + self.n
        created, _ = _order_pair(2 * self.n, order_id, self.store, self.t0, self.docs, self.refunded)
        body = php_json_encode(created)
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json",
                   "X-WC-Webhook-Source": self.store.source_url, "X-WC-Webhook-Topic": "order.created",
                   "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "created",
                   "X-WC-Webhook-Signature": sign(self.store.secret, body), "X-WC-Webhook-ID": "42",
                   "X-WC-Webhook-Delivery-ID": f"{order_id:032x}"}
        return order_id, body, headers


async def register(ingest: str, orders: Orders) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
        s = orders.store
        r = await http.post(f"{ingest}/stores", json={"store_id": s.store_id, "source_url": s.source_url,
                                                      "webhook_secret": s.secret})
        r.raise_for_status()


async def send_at_rate(ingest: str, orders: Orders, rate: float, seconds: float) -> tuple[dict[int, float], list[float]]:
    """Open loop: order k leaves at start + k/rate. Returns (order id → wall send time, response ms)."""
    sent: dict[int, float] = {}
    answers: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=ingest, limits=limits, timeout=30) as http:
        async def one(order_id: int, body: bytes, headers: dict) -> None:
            sent[order_id] = time.time()
            t = time.perf_counter()
            r = await http.post(HOOK_PATH, content=body, headers=headers)
            answers.append(1000 * (time.perf_counter() - t))
            if r.status_code != 200:
                raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:200]}")

        start, tasks = time.perf_counter(), []
        for k in range(int(rate * seconds)):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(*orders.next())))
        await asyncio.gather(*tasks)
    return sent, answers


async def received(sink: Sink, store_id: str, want: int, timeout: float) -> dict[int, float]:
    """order id → wall time the sink accepted its email (Received-At), once `want` have arrived."""
    deadline, got = time.monotonic() + timeout, {}
    async with httpx.AsyncClient(timeout=60) as http:
        since = ""
        while len(got) < want and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            mail = (await http.get(f"{sink.api}/api/messages", params={"since": since} if since else {})).json()
            for m in mail:
                since = max(since, m["id"])
                if m["headers"].get("X-Aftercart-Store") != store_id:
                    continue
                number = int(m["subject"].rsplit("#", 1)[1].split()[0])
                got[number] = datetime.fromisoformat(m["received_at"]).timestamp()
    return got


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--ingest-rate", type=float, default=200.0)
    p.add_argument("--ingest-seconds", type=float, default=20.0)
    p.add_argument("--drain-timeout", type=float, default=180.0,
                   help="how long to wait for a phase's emails; what has not arrived by then is reported missing")
    a = p.parse_args()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="aftercart-stack-bench-"))
    kafka = BenchKafka()
    sink = Sink(tmp / "mail")
    stack = None
    result: dict = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": os.cpu_count(),
                    "rate": a.rate, "seconds": a.seconds}
    try:
        bootstrap = await asyncio.to_thread(kafka.start)
        await sink.ready()
        await schemas()
        stack = Stack(bootstrap, sink.smtp_port, tmp)
        stack.start()
        await stack.ready()
        ingest = f"http://127.0.0.1:{stack.ports['ingest']}"
        run = int(time.time()) % 1000

        # (e) the first order after ready
        first = Orders(run)
        await register(ingest, first)
        t_ready = time.time()
        sent, _ = await send_at_rate(ingest, first, 1, 1)
        got = await received(sink, first.store.store_id, 1, a.drain_timeout)
        result["first_email_after_ready_s"] = round(min(got.values()) - t_ready, 3) if got else None

        # (c) baseline: ingest alone (consumers paused), at --ingest-rate
        alone = Orders(run + 1)
        await register(ingest, alone)
        stack.signal_consumers(signal.SIGSTOP)
        try:
            _, ans_alone = await send_at_rate(ingest, alone, a.ingest_rate, a.ingest_seconds)
        finally:
            stack.signal_consumers(signal.SIGCONT)
        # the consumers now work the backlog those orders left while ingest answers this run
        busy = Orders(run + 2)
        await register(ingest, busy)
        _, ans_busy = await send_at_rate(ingest, busy, a.ingest_rate, a.ingest_seconds)
        await received(sink, alone.store.store_id, len(ans_alone), a.drain_timeout)
        await received(sink, busy.store.store_id, len(ans_busy), a.drain_timeout)

        # (b) + (d) end to end at --rate
        e2e = Orders(run + 3)
        await register(ingest, e2e)
        cpu0 = {n: cpu_s(p.pid) for n, p in stack.procs.items()}
        sent, ans = await send_at_rate(ingest, e2e, a.rate, a.seconds)
        got = await received(sink, e2e.store.store_id, len(sent), a.drain_timeout)
        cpu1 = {n: cpu_s(p.pid) for n, p in stack.procs.items()}
        lat = [1000 * (got[k] - sent[k]) for k in sent if k in got]
        orders = len(sent)
        result.update({
            "end_to_end": {"orders": orders, "emails": len(got), "missing": orders - len(got),
                           "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
                           "max_ms": round(max(lat), 1) if lat else None},
            "ingest_during_e2e": {"p50_ms": pct(ans, 0.5), "p99_ms": pct(ans, 0.99)},
            "ingest_alone": {"rate": a.ingest_rate, "p50_ms": pct(ans_alone, 0.5), "p99_ms": pct(ans_alone, 0.99)},
            "ingest_with_consumers": {"rate": a.ingest_rate, "p50_ms": pct(ans_busy, 0.5),
                                      "p99_ms": pct(ans_busy, 0.99)},
            "cpu_ms": {n: {"total_s": round(cpu1[n] - cpu0[n], 2),
                           "per_order": round(1000 * (cpu1[n] - cpu0[n]) / orders, 2)} for n in SERVICES},
        })
        result["cpu_ms"]["notifier"]["per_email"] = round(1000 * (cpu1["notifier"] - cpu0["notifier"])
                                                          / max(1, len(got)), 2)
    finally:
        if stack is not None:
            stack.stop()
        sink.stop()
        await asyncio.to_thread(kafka.stop)
        await schemas(drop_only=True)
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"notifier-stack-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
