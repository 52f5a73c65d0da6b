"""Over real sockets: a local uvicorn receiver on a free port, the sender's own httpx client,
and ``python -m deploy.local.storesim play`` end to end."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from deploy.local.storesim import WebhookSender, verify

from tests.support.storesim import Receiver

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_receiver():
    receiver = Receiver()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(receiver.app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.02)
    yield receiver, f"http://127.0.0.1:{port}/webhooks/woocommerce"
    server.should_exit = True
    thread.join(timeout=5)


async def test_delivery_over_a_real_socket(live_receiver):
    receiver, url = live_receiver
    sender = WebhookSender(url, "https://demo-store.example/", 142, "s3cret")
    assert await sender.send("order.updated", {"id": 727, "href": "https://x.example/a"}) == 200
    headers, body = receiver.requests[0]
    assert body == b'{"id":727,"href":"https:\\/\\/x.example\\/a"}'
    assert headers["content-type"] == "application/json"
    assert verify("s3cret", body, headers["x-wc-webhook-signature"])


def test_play_cli(live_receiver):
    receiver, url = live_receiver
    result = subprocess.run(
        [sys.executable, "-m", "deploy.local.storesim", "play", "--delivery-url", url,
         "--secret", "S", "--source", "https://demo-store.example/"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["deliveries"] == 24 and summary["status_codes"] == {"200": 24}
    deliveries = [(h, b) for h, b in receiver.requests if "x-wc-webhook-topic" in h]
    assert len(deliveries) == 24
    assert all(verify("S", b, h["x-wc-webhook-signature"]) for h, b in deliveries)


async def test_serve_cli_oauth_only_logs_in_signed_requests_only():
    """``serve --oauth-only``: WooCommerce over plain http — Basic is not a login, ingest's OAuth
    1.0a signed client is."""
    import asyncio

    import httpx

    from services.ingest.adapters.woo_rest import WooRestClient

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "deploy.local.storesim", "serve", "--port", str(port),
                             "--consumer-key", "ck_cli", "--consumer-secret", "cs_cli", "--oauth-only"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=5, auth=("ck_cli", "cs_cli")) as http:
            while True:
                try:
                    basic = await http.get(f"{url}/wp-json/wc/v3/webhooks")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proc.poll() is None, "storesim serve did not start"
                    await asyncio.sleep(0.1)
        assert (basic.status_code, basic.json()["code"]) == (401, "woocommerce_rest_cannot_view")
        client = WooRestClient(url, "ck_cli", "cs_cli")
        try:
            assert await client.webhooks() == []
        finally:
            await client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
