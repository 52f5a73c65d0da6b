"""A mail sink of a test's own: the real deploy/local/mailsink.py as its own process, on free
ports, storing in a directory of the test's — for tests that count every message a sender
delivered (the stack's shared sink also holds everyone else's mail) or that arm its faults.

    async with private_mailsink(tmp_path) as sink:
        sink.smtp_port, sink.api          # SMTP port, "http://127.0.0.1:<port>"
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.served_ingest import free_port


@dataclass
class Sink:
    smtp_port: int
    api: str
    mail_dir: Path

    async def messages(self) -> list[dict]:
        async with httpx.AsyncClient(timeout=30) as http:
            return (await http.get(f"{self.api}/api/messages")).json()

    async def count(self) -> int:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(f"{self.api}/api/health")).json()["messages"]

    async def faults(self, **faults) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            (await http.post(f"{self.api}/api/faults", json=faults)).raise_for_status()


@asynccontextmanager
async def private_mailsink(directory: Path) -> AsyncIterator[Sink]:
    smtp_port, http_port = free_port(), free_port()
    root = Path(__file__).resolve().parents[2]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.local.mailsink", "--host", "127.0.0.1", "--smtp-port", str(smtp_port),
        "--http-port", str(http_port), "--mail-dir", str(directory), cwd=root, env=dict(os.environ),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    sink = Sink(smtp_port, f"http://127.0.0.1:{http_port}", directory)
    try:
        for _ in range(150):
            try:
                await sink.count()
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
        yield sink
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
