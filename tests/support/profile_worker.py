"""The faust profile worker as a child process of a test, with an app id (consumer group, changelog
topics) of the test's own, and the helpers to feed it events and read what it publishes.

    async with ProfileWorker(bootstrap, app_id) as worker: ...   # ready when /readyz says so
    worker.kill()                                                # SIGKILL, no goodbye
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events.envelope import Envelope
from shared.events.registry import PARTITIONS, TOPIC_OF_TYPE, validate_data
from shared.kafka.producer import headers_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProfileWorker:
    def __init__(self, bootstrap: str, app_id: str, data_dir: Path, **env: str) -> None:
        self.bootstrap, self.app_id, self.data_dir, self.env = bootstrap, app_id, data_dir, env
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self.log = data_dir / f"{app_id}-{self.port}.log"

    async def start(self, ready_timeout: float = 120.0) -> "ProfileWorker":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "AFTERCART_PROFILES_KAFKA_BOOTSTRAP": self.bootstrap,
               "AFTERCART_PROFILES_APP_ID": self.app_id, "AFTERCART_PROFILES_PORT": str(self.port),
               "AFTERCART_PROFILES_DATA_DIR": str(self.data_dir / self.app_id / str(self.port)), **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.profiles.entrypoints.worker", cwd=ROOT, env=env,
            stdout=out, stderr=asyncio.subprocess.STDOUT)
        out.close()
        deadline = asyncio.get_running_loop().time() + ready_timeout
        async with httpx.AsyncClient() as http:
            while asyncio.get_running_loop().time() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"profile worker exited: {self.log.read_text()[-3000:]}")
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise TimeoutError(f"profile worker not ready: {self.log.read_text()[-3000:]}")

    async def catalogue_size(self) -> int:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5)).json()["catalogue_products"]

    async def wait_catalogue(self, at_least: int, timeout: float = 60.0) -> None:
        """Until this worker's catalogue GlobalTable holds `at_least` products."""
        deadline = asyncio.get_running_loop().time() + timeout
        while await self.catalogue_size() < at_least:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("catalogue not replicated")
            await asyncio.sleep(0.2)

    def kill(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    async def __aenter__(self) -> "ProfileWorker":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class OwnTopics:
    """Topics of a test's own (created empty, deleted after), so a worker reads no earlier run's
    history and writes nothing others read: the worker's AFTERCART_PROFILES_*_TOPIC settings."""

    def __init__(self, prefix: str) -> None:
        self.names = {"orders.v1": f"{prefix}-orders", "customers.v1": f"{prefix}-customers",
                      "catalog.v1": f"{prefix}-catalog", "profiles.v1": f"{prefix}-profiles",
                      "profiles.dlq": f"{prefix}-dlq"}

    def env(self) -> dict[str, str]:
        keys = {"orders.v1": "ORDERS", "customers.v1": "CUSTOMERS", "catalog.v1": "CATALOG",
                "profiles.v1": "PROFILES", "profiles.dlq": "DLQ"}
        return {f"AFTERCART_PROFILES_{keys[k]}_TOPIC": v for k, v in self.names.items()}

    def of(self, event_type: str) -> str:
        return self.names[TOPIC_OF_TYPE[event_type]]

    async def create(self, bootstrap: str) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in self.names.values()])
        finally:
            await admin.close()

    async def delete(self, bootstrap: str) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(list(self.names.values()))
        finally:
            await admin.close()


async def publish(bootstrap: str, events: list[tuple[str, Envelope]], topics: OwnTopics | None = None) -> None:
    """(key, envelope) pairs to their home topics (or the test's own), in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, env in events:
            validate_data(env.type, env.version, env.data)
            topic = topics.of(env.type) if topics else TOPIC_OF_TYPE[env.type]
            await producer.send_and_wait(topic, env.to_bytes(), key=key.encode(),
                                         headers=headers_for(env.type, env.id))
    finally:
        await producer.stop()


async def delete_app_topics(bootstrap: str, app_id: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(app_id + "-")]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
