"""E2E fixtures: the four services as real processes (shared/service/serve.py, as deployed) against
the real stack, on ports of their own so a running `aftercart` dev system doesn't interfere."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn

from deploy.local.storesim import Store, create_app as storesim_app

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"ingest": 18001, "notifier": 18002, "loyalty": 18003, "reviews": 18004}
API_TOKEN = "e2e-token-" + os.urandom(4).hex()
RUN = os.urandom(3).hex()
# The WooCommerce store simulator's REST key, and the store loyalty redeems against (loyalty reads
# its stores' REST access from its settings).
SIM_CK, SIM_CS = "ck_e2e_" + RUN, "cs_e2e_" + RUN
LOYALTY_STORE = f"e2e-loy-{RUN}"
# Reviews in a schema of this run's own: `send-due --at` (the clock moved) then asks only about this
# run's orders, never about a dev system's or an earlier run's.
REVIEWS_SCHEMA = f"e2e_reviews_{RUN}"


@dataclass
class StoreSim:
    """The store simulator served over HTTP for the services; `store` is what WooCommerce holds."""
    store: Store
    url: str


def reviews_dsn(stack) -> str:
    return f"{stack.service_dsn('reviews')}?search_path={REVIEWS_SCHEMA}"


def service_env(stack, name: str, port: int, sim: StoreSim | None = None) -> dict[str, str]:
    prefix = f"AFTERCART_{name.upper()}_"
    env = dict(os.environ)
    env.pop("AFTERCART_FAULT", None)
    env.update({prefix + "PORT": str(port), prefix + "DATABASE_URL": stack.service_dsn(name),
                prefix + "KAFKA_BOOTSTRAP": stack.bootstrap_servers()})
    # A group of their own, starting at the end of the topics: these processes must neither
    # share partitions with a running dev system nor chew through earlier runs' events.
    env[prefix + "CONSUMER_GROUP"] = f"{name}-e2e-{RUN}"
    env[prefix + "CONSUMER_OFFSET_RESET"] = "latest"
    env[prefix + "API_TOKEN"] = API_TOKEN  # a real token, not the built-in development one
    if name == "ingest":
        env[prefix + "RECONCILE_INTERVAL_S"] = "0"
    if name == "notifier":
        env[prefix + "SMTP_PORT"] = str(stack.smtp_port)
        env[prefix + "SEND_BACKOFF_BASE_S"] = "0.2"
    if name == "reviews":  # its pages on its own port; the stores' credentials from this run's ingest
        env[prefix + "PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        env[prefix + "INGEST_URL"] = f"http://127.0.0.1:{PORTS['ingest']}"
        env[prefix + "INGEST_API_TOKEN"] = API_TOKEN
        env[prefix + "PHOTO_DIR"] = str(stack.state_dir / "e2e" / RUN / "photos")
        env[prefix + "DATABASE_URL"] = reviews_dsn(stack)
        env[prefix + "PUBLISH_POLL_S"] = "0.5"
        # Its scheduler looks once, at start-up, then waits an hour: the tests move reviews' clock
        # with `send-due --at` and must be the only ones sending the asks.
        env[prefix + "SCHEDULER_POLL_S"] = "3600"
    if name == "loyalty" and sim is not None:
        env[prefix + "STORE_REST"] = json.dumps({LOYALTY_STORE: {"url": sim.url, "consumer_key": SIM_CK,
                                                                 "consumer_secret": SIM_CS}})
    return env


def start_service(stack, name: str, port: int, log_dir: Path, sim: StoreSim | None = None) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "shared.service.serve", f"services.{name}.entrypoints.api:create_app",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=service_env(stack, name, port, sim), stdout=log, stderr=subprocess.STDOUT)


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if r.status_code == 200:
                return
            last = r.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise AssertionError(f"service on {port} not ready: {last}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def storesim():
    """The store simulator's REST API on a port of its own, served from a thread of this process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    store = Store(url)
    server = uvicorn.Server(uvicorn.Config(storesim_app(store, consumer_key=SIM_CK, consumer_secret=SIM_CS),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "store simulator did not start"
        time.sleep(0.05)
    try:
        yield StoreSim(store=store, url=url)
    finally:
        server.should_exit = True
        thread.join(10)


async def _schema(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="package")
def services(stack, storesim, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("service-logs")
    asyncio.run(_schema(stack.service_dsn("reviews"), f'CREATE SCHEMA "{REVIEWS_SCHEMA}"'))
    procs = {name: start_service(stack, name, port, log_dir, storesim) for name, port in PORTS.items()}
    try:
        for name, port in PORTS.items():
            wait_ready(port)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}
        urls["log_dir"] = str(log_dir)
        yield urls
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        asyncio.run(_schema(stack.service_dsn("reviews"), f'DROP SCHEMA "{REVIEWS_SCHEMA}" CASCADE'))
