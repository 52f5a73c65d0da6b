"""What the e2e journeys share: waiting for an outcome, registering a store with this run's ingest,
reading the SMTP sink."""
from __future__ import annotations

import asyncio

import httpx

from tests.e2e.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def eventually(fn, timeout: float = 90.0, interval: float = 0.3):
    """`fn()`'s first truthy answer (generous: the shared topics may carry others' traffic)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await fn()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(interval)


async def register_store(client: httpx.AsyncClient, ingest: str, store_id: str, **rest: str) -> tuple[str, str]:
    """Register `store_id` (REST access given as rest_url / consumer_key / consumer_secret): (source, secret)."""
    source, secret = f"https://{store_id}.example/", f"secret-{store_id}-0123456789"
    r = await client.post(f"{ingest}/stores", headers=AUTH,
                          json={"store_id": store_id, "source_url": source, "webhook_secret": secret, **rest})
    assert r.status_code == 201, r.text
    assert "webhook_secret" not in r.json() and "consumer_secret" not in r.json()
    return source, secret


async def mails(client: httpx.AsyncClient, mail_api: str, to: str, template: str) -> list[dict]:
    r = await client.get(f"{mail_api}/api/messages", params={"to": to})
    return [m for m in r.json() if m["headers"].get("X-Aftercart-Template") == template]
