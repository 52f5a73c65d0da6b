"""The four services as real processes (`shared.service.serve`, as deployed) on free ports, against
the real stack, for the fuzz tests: schemathesis over each OpenAPI, hypothesis over ingest's webhook.
Everything the fuzz registers is scratch (run.py: this run's own store ids) and deleted at the end.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest

from tests.integration.fuzz.run import RUN, TOKEN

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "notifier", "loyalty", "reviews")
OUTAGE_MARGIN = timedelta(seconds=10)  # errors just before the first 503 and just after recovery
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    url: str
    proc: subprocess.Popen
    log: Path
    # When storage was away during the run (UTC): see answer_after_outage.
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            assert self.alive(), f"{self.name} exited:\n{self.log_tail()}"
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready: {last}\n{self.log_tail()}")

    def answer_after_outage(self, status: int, resend: Callable[[], T]) -> T | None:
        """A 503 is the right answer while PostgreSQL is away, and the stack is shared: another
        test may be restarting it. So a 503 is sent again once the service is ready; the second
        answer is the one to judge (a 503 again is the request's own doing). None: no 503."""
        if status != 503:
            return None
        began = datetime.now(timezone.utc)
        self.wait_ready()
        self.outages.append((began, datetime.now(timezone.utc)))
        return resend()

    def errors_logged(self) -> list[str]:
        """Error lines (and tracebacks) of the log, but those of an outage (its errors are storage's)."""
        found, when = [], None
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
                when = datetime.fromisoformat(entry["timestamp"])
            except (ValueError, KeyError, TypeError):
                entry = None  # a raw line (a traceback's): it belongs with the entry before it
            during_outage = when is not None and any(
                began - OUTAGE_MARGIN <= when <= ended + OUTAGE_MARGIN for began, ended in self.outages)
            if during_outage:
                continue
            if (entry is not None and entry.get("level") in ("error", "critical")) or "Traceback" in line:
                found.append(line)
        return found


@dataclass
class Fuzzed:
    services: dict[str, Service] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]


def _env(stack, name: str, port: int) -> dict[str, str]:
    prefix = f"AFTERCART_{name.upper()}_"
    env = {k: v for k, v in os.environ.items() if k != "AFTERCART_FAULT"}
    env.update({prefix + "PORT": str(port), prefix + "DATABASE_URL": stack.service_dsn(name),
                prefix + "KAFKA_BOOTSTRAP": stack.bootstrap_servers(), prefix + "API_TOKEN": TOKEN,
                prefix + "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    if name == "ingest":
        env[prefix + "RECONCILE_INTERVAL_S"] = "0"  # fuzzed stores' REST URLs are never called
    return env


@pytest.fixture(scope="package")
def fuzzed(stack, tmp_path_factory) -> Fuzzed:
    """Ingest exactly as deployed; the other three with their real app but no workers (apps.py)."""
    logs = tmp_path_factory.mktemp("fuzz-logs")
    fuzzed = Fuzzed()
    for name in SERVICES:
        port = _free_port()
        log = logs / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "shared.service.serve", f"tests.integration.fuzz.apps:{name}",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=_env(stack, name, port), stdout=log.open("ab"), stderr=subprocess.STDOUT)
        fuzzed.services[name] = Service(name, f"http://127.0.0.1:{port}", proc, log)
    try:
        for service in fuzzed.services.values():
            service.wait_ready()
        yield fuzzed
    finally:
        for service in fuzzed.services.values():
            service.proc.terminate()
        for service in fuzzed.services.values():
            try:
                service.proc.wait(10)
            except subprocess.TimeoutExpired:
                service.proc.kill()


@pytest.fixture(scope="package", autouse=True)
async def drop_scratch_stores(stack):
    """The stores this run registered go when it ends (only those: ids starting with fz<RUN>)."""
    yield
    conn = await asyncpg.connect(stack.service_dsn("ingest"))
    try:
        await conn.execute("DELETE FROM stores WHERE starts_with(store_id, $1)", f"fz{RUN}")
    finally:
        await conn.close()
