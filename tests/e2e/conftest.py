"""E2E fixtures: the four services as real processes (shared/service/serve.py, as deployed) against
the real stack, on ports of their own so a running `aftercart` dev system doesn't interfere."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"ingest": 18001, "notifier": 18002, "loyalty": 18003, "reviews": 18004}
API_TOKEN = "e2e-token-" + os.urandom(4).hex()
RUN = os.urandom(3).hex()


def service_env(stack, name: str, port: int) -> dict[str, str]:
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
    return env


def start_service(stack, name: str, port: int, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "shared.service.serve", f"services.{name}.entrypoints.api:create_app",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=service_env(stack, name, port), stdout=log, stderr=subprocess.STDOUT)


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


@pytest.fixture(scope="package")
def services(stack, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("service-logs")
    procs = {name: start_service(stack, name, port, log_dir) for name, port in PORTS.items()}
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
