"""A service started while PostgreSQL and Kafka are unreachable starts anyway, says on /readyz
what is missing, does not crash-loop, and connects by itself once they appear. Its internal API
meanwhile asks for the token first, answers 503 while storage is away, and serves once it is back."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.tcp_proxy import start_proxy

ROOT = Path(__file__).resolve().parents[2]
# The built-in token: the process inherits AFTERCART_ENV=development from tests/conftest.py.
AUTH = {"Authorization": "Bearer dev-notifier-token"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_starts_without_dependencies_and_reconnects(stack, uid, tmp_path):
    pg_port, kafka_port, http_port = free_port(), free_port(), free_port()
    env = dict(os.environ, AFTERCART_NOTIFIER_PORT=str(http_port),
               AFTERCART_NOTIFIER_DATABASE_URL=f"postgresql://notifier:notifier@127.0.0.1:{pg_port}/notifier",
               AFTERCART_NOTIFIER_KAFKA_BOOTSTRAP=f"127.0.0.1:{kafka_port}",
               AFTERCART_NOTIFIER_RECONNECT_BACKOFF_MAX_S="1", AFTERCART_NOTIFIER_CONSUMER_GROUP=f"resilience-{uid}",
               AFTERCART_NOTIFIER_CONSUMER_OFFSET_RESET="latest")
    log = open(tmp_path / "notifier.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "services.notifier.entrypoints.api:create_app",
                             "--factory", "--port", str(http_port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    proxies = []
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(100):
                try:
                    if (await client.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            r = await client.get(f"{base}/readyz")
            assert r.status_code == 503
            assert {"postgres", "kafka"} <= set(r.json()["missing"])
            history = {"customer_key": f"resilience-{uid}:c1"}
            assert (await client.get(f"{base}/messages", params=history)).status_code == 401
            r = await client.get(f"{base}/messages", params=history, headers=AUTH)
            assert r.status_code == 503, r.text
            await asyncio.sleep(3)  # several failed attempts later: still alive, still answering
            assert proc.poll() is None
            assert (await client.get(f"{base}/healthz")).status_code == 200

            proxies = [await start_proxy(pg_port, stack.pg_port), await start_proxy(kafka_port, stack.kafka_port)]
            for _ in range(150):
                r = await client.get(f"{base}/readyz")
                if r.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert r.status_code == 200, r.text
            assert r.json()["dependencies"] == {"postgres": "up", "kafka": "up", "consumer": "up", "outbox": "up"}
            r = await client.get(f"{base}/messages", params=history, headers=AUTH)
            assert (r.status_code, r.json()) == (200, [])
            assert (await client.get(f"{base}/messages", params=history)).status_code == 401
    finally:
        proc.terminate()
        proc.wait(15)
        for p in proxies:
            p.close()
    text = (tmp_path / "notifier.log").read_text()
    assert "dependency_unavailable" in text and "dependency_connected" in text
    assert "notifier:notifier" not in text  # no credentials in logs
