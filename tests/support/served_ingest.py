"""Ingest as a real process, served the way it is deployed (`python -m shared.service.serve`), for
tests of what only a process shows: its memory (RSS from /proc), its connections, its deadlines.

    with served_ingest(stack, tmp_path, HTTP_KEEP_ALIVE_S="2") as srv:
        srv.register(store_id, source, secret)
        status = raw_request(srv.port, head, body)[0]
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.local.storesim.php_json import php_json_encode
from deploy.local.storesim.signing import sign

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "edge-ingest-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


@dataclass
class ServedIngest:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register(self, store_id: str, source: str, secret: str) -> None:
        r = httpx.post(f"{self.url}/stores", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
                       json={"store_id": store_id, "source_url": source, "webhook_secret": secret})
        assert r.status_code == 201, r.text


@contextmanager
def served_ingest(stack, log_dir: Path, **settings: str) -> Iterator[ServedIngest]:
    """One worker process; `settings` are IngestSettings by env name without the prefix."""
    port = free_port()
    env = {**os.environ, "AFTERCART_INGEST_PORT": str(port),
           "AFTERCART_INGEST_DATABASE_URL": stack.service_dsn("ingest"),
           "AFTERCART_INGEST_KAFKA_BOOTSTRAP": stack.bootstrap_servers(), "AFTERCART_INGEST_API_TOKEN": TOKEN,
           "AFTERCART_INGEST_RECONCILE_INTERVAL_S": "0", "AFTERCART_INGEST_LOG_LEVEL": "WARNING",
           **{f"AFTERCART_INGEST_{k}": v for k, v in settings.items()}}
    env.pop("AFTERCART_FAULT", None)
    log = log_dir / f"ingest-{port}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "shared.service.serve", "services.ingest.entrypoints.api:create_app",
                                 "--port", str(port), "--log-level", "warning"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"ingest exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"ingest not ready: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        yield ServedIngest(proc=proc, port=port, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def signed_delivery(source: str, secret: str, body: dict, topic: str = "order.created",
                    keep_alive: bool = True) -> bytes:
    """One signed WooCommerce delivery as raw HTTP/1.1 bytes."""
    raw = php_json_encode(body)
    resource, event = topic.split(".", 1)
    close = "" if keep_alive else "Connection: close\r\n"
    head = (f"POST /webhooks/woocommerce HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\nX-WC-Webhook-Source: {source}\r\nX-WC-Webhook-Topic: {topic}\r\n"
            f"X-WC-Webhook-Resource: {resource}\r\nX-WC-Webhook-Event: {event}\r\n"
            f"X-WC-Webhook-Signature: {sign(secret, raw)}\r\nX-WC-Webhook-ID: 42\r\n"
            f"{close}\r\n")
    return head.encode() + raw


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 response with a Content-Length, read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data[:200]!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest[:length]


def raw_request(port: int, data: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request on a connection of its own: (status, body), or (0, b"") if the server reset it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            return read_response(sock)
        except (ConnectionResetError, BrokenPipeError):
            return 0, b""
