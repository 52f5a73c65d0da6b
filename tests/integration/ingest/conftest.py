"""Ingest in-process (its real FastAPI app, real PostgreSQL and Kafka), a registered store per
test, and a reader of what ingest wrote to its outbox and to Kafka."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import orjson
import pytest

from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app

TOKEN = "it-ingest-token"


@dataclass
class IngestClient:
    http: httpx.AsyncClient
    app: object
    store_id: str
    source: str
    secret: str

    @property
    def pool(self):
        return self.app.state.ingest.runtime.pool

    async def events_of(self, subject: str) -> list[dict]:
        rows = await self.pool.fetch("SELECT payload FROM outbox WHERE source = $1 AND subject = $2 ORDER BY seq",
                                     f"/stores/{self.store_id}", subject)
        return [orjson.loads(r["payload"]) for r in rows]

    async def deliveries(self) -> list:
        return await self.pool.fetch("SELECT * FROM deliveries WHERE store_id = $1 ORDER BY id", self.store_id)


@pytest.fixture
async def ingest_app(stack):
    settings = IngestSettings(database_url=stack.service_dsn("ingest"), kafka_bootstrap=stack.bootstrap_servers(),
                              api_token=TOKEN, reconcile_interval_s=0, max_body_bytes=200_000)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.ingest.runtime.connected.wait(), 60)
        yield app


@pytest.fixture
async def ingest(ingest_app, uid):
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
        store_id, source, secret = f"it-{uid}", f"https://it-{uid}.example/", f"secret-{uid}-abcdefghij"
        r = await http.post("/stores", headers={"Authorization": f"Bearer {TOKEN}"},
                            json={"store_id": store_id, "source_url": source, "webhook_secret": secret})
        assert r.status_code == 201, r.text
        yield IngestClient(http=http, app=ingest_app, store_id=store_id, source=source, secret=secret)
