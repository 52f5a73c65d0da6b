"""Ingest in-process (its real FastAPI app, real PostgreSQL and Kafka), a registered store per
test, and a reader of what ingest wrote to its outbox and to Kafka; for reconciliation, the store
simulator served over real HTTP as that store's REST API."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pytest
import uvicorn

from deploy.local.storesim import SimClock, Store
from deploy.local.storesim import create_app as create_sim_app
from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app
from services.ingest.adapters.reconcile_state import SCHEDULE_LOCK

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
        return self.app.state.service.runtime.pool

    async def events_of(self, subject: str) -> list[dict]:
        rows = await self.pool.fetch("SELECT payload FROM outbox WHERE source = $1 AND subject = $2 ORDER BY seq",
                                     f"/stores/{self.store_id}", subject)
        return [orjson.loads(r["payload"]) for r in rows]

    async def deliveries(self) -> list:
        return await self.pool.fetch("SELECT * FROM deliveries WHERE store_id = $1 ORDER BY id", self.store_id)


@pytest.fixture
def ingest_overrides() -> dict:
    """IngestSettings a test module needs other than the defaults (override the fixture there)."""
    return {}


@pytest.fixture
async def ingest_app(stack, ingest_overrides):
    settings = IngestSettings(database_url=stack.service_dsn("ingest"), kafka_bootstrap=stack.bootstrap_servers(),
                              api_token=TOKEN, reconcile_interval_s=0, max_body_bytes=200_000, **ingest_overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.service.runtime.connected.wait(), 60)
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


# --- A store simulator served over real HTTP, registered as the `ingest` store's REST API -----

SIM_CK, SIM_CS = "ck_it_reconcile", "cs_it_reconcile"


@dataclass
class SimStore:
    store: object  # deploy.local.storesim.Store
    clock: object  # deploy.local.storesim.SimClock: dates a day in the past, 1 s per store action
    url: str


def closed_port() -> socket.socket:
    """A bound, never-listening socket: connecting to its port is refused for as long as it's held."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def storesim(ingest):
    """The simulator (a store with the `ingest` store's home URL) served by uvicorn over plain http
    on a free port, in its own thread so blocking calls in a test (a CLI subprocess) don't stall it.
    Like a real store over http it logs in OAuth 1.0a signed requests only."""
    clock = SimClock(start=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1))
    store = Store(ingest.source, clock=clock)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # basic_over_http=False: over plain http the simulator takes OAuth 1.0a only, as WooCommerce does.
    app = create_sim_app(store, consumer_key=SIM_CK, consumer_secret=SIM_CS, basic_over_http=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "store simulator did not start"
        time.sleep(0.02)
    yield SimStore(store=store, clock=clock, url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
async def rest_store(ingest, storesim):
    """The `ingest` store registered again through POST /stores, now with the simulator's REST URL
    and API key. The test holds the reconcile schedule's lock, so an ingest sharing this database
    (a running demo) can't reconcile the simulator behind the test's back; afterwards the
    credentials are dropped, so it doesn't keep trying a simulator that is gone."""
    async with ingest.pool.acquire() as hold:
        await hold.execute("SELECT pg_advisory_lock($1)", SCHEDULE_LOCK)
        try:
            r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers={"Authorization": f"Bearer {TOKEN}"},
                                        json={"rest_url": storesim.url, "consumer_key": SIM_CK,
                                              "consumer_secret": SIM_CS})
            assert r.status_code == 200 and r.json()["rest_url"].rstrip("/") == storesim.url, r.text
            yield storesim
        finally:
            await ingest.pool.execute("UPDATE stores SET rest_url = NULL, consumer_key = NULL,"
                                      " consumer_secret = NULL WHERE store_id = $1", ingest.store_id)
            await hold.execute("SELECT pg_advisory_unlock($1)", SCHEDULE_LOCK)
