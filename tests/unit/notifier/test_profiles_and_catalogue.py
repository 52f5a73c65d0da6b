"""The notifier keeps the latest profile per customer (profiles.v1) and the catalogue (catalog.v1)
with its in-memory repositories, erasure removes the profile, and the API serves it (bearer, 404
when unknown)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from services.notifier.config import NotifierSettings
from services.notifier.entrypoints.api import create_app
from services.notifier.entrypoints.api_customers import get_transactions
from services.notifier.handlers import HANDLERS
from tests.support.fakes.notifier import memory_unit_of_work
from tests.unit.notifier.events import at, event
from tests.unit.notifier.profile_events import product_data, profile_data

T0 = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
TOKEN = "a-real-token-for-this-test-0123"


async def handle(tx, e) -> None:
    await HANDLERS[e.type](e, tx)


async def test_the_latest_profile_wins_and_a_late_older_one_changes_nothing():
    tx = memory_unit_of_work()
    await handle(tx, at(event("profile.updated", profile_data("s1", "c1", products=[1, 2], orders=2)), T0))
    await handle(tx, at(event("profile.updated", profile_data("s1", "c1", products=[1], orders=1)),
                        T0 - timedelta(minutes=1)))
    got = await tx.profiles.get("s1:c1")
    assert (got.orders, got.products) == (2, [1, 2])


async def test_erasure_removes_the_profile():
    tx = memory_unit_of_work()
    await handle(tx, event("profile.updated", profile_data("s1", "c1")))
    await handle(tx, event("customer.erased", {"store_id": "s1", "key": "s1:c1", "customer_id": 1}))
    assert await tx.profiles.get("s1:c1") is None


async def test_catalogue_keeps_what_recommendations_show_and_a_deletion_sticks():
    tx = memory_unit_of_work()
    await handle(tx, at(event("product.upserted", product_data("s1", 7, "Filter", cross=[8], related=[9],
                                                               categories=["Coffee"])), T0))
    [p] = (await tx.catalogue.get_many("s1", [7])).values()
    assert (p.name, p.price, p.cross_sell_ids, p.related_ids, p.categories, p.buyable) == \
        ("Filter", "9.90", (8,), (9,), ("Coffee",), True)
    assert p.image == "https://s1.example/img/7.jpg" and p.permalink == "https://s1.example/p/7"
    await handle(tx, at(event("product.deleted", {"store_id": "s1", "product_id": 7}), T0 + timedelta(seconds=1)))
    await handle(tx, at(event("product.upserted", product_data("s1", 7, "Filter"), salt=2), T0))  # late, older
    [p] = (await tx.catalogue.get_many("s1", [7])).values()
    assert p.deleted and not p.buyable


@pytest.fixture
def api():
    app = create_app(NotifierSettings(environment="production", api_token=TOKEN))
    tx = memory_unit_of_work()

    @asynccontextmanager
    async def transaction():
        yield tx

    app.dependency_overrides[get_transactions] = lambda: transaction
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"), tx


async def test_api_serves_the_profile_only_with_the_token_and_404_when_unknown(api):
    client, tx = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    await handle(tx, event("profile.updated", profile_data(
        "s1", "c1", products=[3], affinity={"coffee": 0.75, "tea": 0.25},
        replenishment={"3": "2026-04-01T10:00:00Z"}, segment="loyal", orders=4)))
    r = await client.get("/stores/s1/customers/c1/profile", headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert (body["orders"], body["segment"], body["lifetime_value"], body["products"]) == (4, "loyal", "42.50", [3])
    assert body["category_affinity"] == {"coffee": 0.75, "tea": 0.25}
    assert body["replenishment_due"] == {"3": "2026-04-01T10:00:00Z"}
    assert (await client.get("/stores/s1/customers/c1/profile")).status_code == 401
    assert (await client.get("/stores/s1/customers/c2/profile", headers=auth)).status_code == 404
    assert (await client.get("/stores/s2/customers/c1/profile", headers=auth)).status_code == 404
    assert (await client.get("/stores/s1/customers/x:y/profile", headers=auth)).status_code == 422
