"""Publication through the real parts: a review submitted on the page (real database) is posted by
the publisher to the WooCommerce store simulator (which checks the request as WooCommerce does),
with the store's credentials read from a real ingest app's internal API; review.published is in
the outbox; a review the store already has (an answer lost) is adopted, not posted twice; a
permanent refusal is recorded with its reason and shows in the moderation queue, where a person
can fix the display name and approve it again."""
from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.local.storesim import SimClock, Store, create_app as storesim_app
from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app as ingest_app
from services.reviews import publishing, reviewing
from services.reviews.adapters.store_access import IngestStoreAccess
from services.reviews.adapters.woo_reviews import WooReviews
from services.reviews.bootstrap import publish_config
from tests.support.pg_schema import isolated_schema
from tests.support.reviews_pages import TOKEN as REVIEWS_TOKEN, reviews_app
from tests.unit.reviews.order_events import line

INGEST_TOKEN = "it-ingest-token-0123456789"
CK, CS = "ck_reviews_test", "cs_reviews_test"


@pytest.fixture
async def world(stack, uid, tmp_path):
    shop = Store("http://sim/", clock=SimClock())
    mug, lamp = shop.create_product("Mug", "12.00"), shop.create_product("Lamp", "40.00")
    async with isolated_schema(stack.service_dsn("ingest"), f"it_ing_{uid}") as ingest_dsn:
        ingest = ingest_app(IngestSettings(database_url=ingest_dsn, kafka_bootstrap=stack.bootstrap_servers(),
                                           api_token=INGEST_TOKEN, reconcile_interval_s=0))
        ingest.state.service.runtime.workers.clear()  # its API only
        async with ingest.router.lifespan_context(ingest):
            await asyncio.wait_for(ingest.state.service.runtime.connected.wait(), 60)
            mounts = {"http://ingest": httpx.ASGITransport(app=ingest),
                      "http://sim": httpx.ASGITransport(app=storesim_app(shop, consumer_key=CK, consumer_secret=CS))}
            async with httpx.AsyncClient(mounts=mounts) as http:
                store_id = f"s{uid}"
                r = await http.post("http://ingest/stores", headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
                                    json={"store_id": store_id, "source_url": "http://sim/",
                                          "webhook_secret": f"secret-{uid}-abcdefghij", "rest_url": "http://sim/",
                                          "consumer_key": CK, "consumer_secret": CS})
                assert r.status_code == 201, r.text
                async with reviews_app(stack, uid, tmp_path / "photos") as site:
                    site.http, site.shop, site.products = http, shop, (mug["id"], lamp["id"])
                    site.stores = IngestStoreAccess(http, "http://ingest", INGEST_TOKEN)
                    yield site


async def _submit(site, ratings: dict[int, int], texts: dict[int, str]) -> None:
    token = urlsplit(await site.asked(line_items=[line(n + 1, p) for n, p in enumerate(site.products)])).path
    token = token.rsplit("/", 1)[1]
    tx = site.service.transactions(site.pool)
    await reviewing.rate(tx, site.service.links, token, {p: str(r) for p, r in ratings.items()}, site.clock.now())
    await reviewing.submit(tx, site.service.links, site.service.photos, token,
                           [reviewing.Entry(p, str(ratings[p]), "", t) for p, t in texts.items()], "Ann R.",
                           site.clock.now(), limits=site.service.photo_limits, moderation=site.service.moderation)


async def _publish(site):
    return await publishing.publish_due(site.service.transactions(site.pool), site.stores, WooReviews(site.http),
                                        publish_config(site.service.settings), site.clock.now())


async def test_a_review_reaches_the_store_once_with_review_published(world):
    site = world
    mug, lamp = site.products
    await _submit(site, {mug: 2, lamp: 5}, {mug: "The handle broke.", lamp: "Lovely light."})
    # The lamp's review reached the store earlier, but its outcome was never recorded (a crash).
    access = await site.stores.get(site.store)
    first = await WooReviews(site.http).create(access, {"product_id": lamp, "review": "Lovely light.",
                                                        "reviewer": "Ann R.", "reviewer_email": "x@example.com",
                                                        "rating": 5, "verified": True})
    done = await _publish(site)
    assert (done.published, done.failed) == (2, 0)

    in_store = sorted(site.shop.reviews.values(), key=lambda r: r["product_id"])
    assert [(r["product_id"], r["rating"], r["reviewer"], r["reviewer_email"], r["verified"]) for r in in_store] == [
        (mug, 2, "Ann R.", "x@example.com", True), (lamp, 5, "Ann R.", "x@example.com", True)]  # the lamp's once
    rows = {r["product_id"]: r for r in await site.pool.fetch(
        "SELECT product_id, status, woo_review_id FROM reviews")}
    assert rows[lamp]["woo_review_id"] == first["id"] and {r["status"] for r in rows.values()} == {"published"}
    assert rows[mug]["woo_review_id"] == next(r["id"] for r in in_store if r["product_id"] == mug)
    published = [json.loads(p)["data"] for (p,) in await site.pool.fetch(
        "SELECT convert_from(payload, 'UTF8') FROM outbox WHERE event_type = 'review.published' ORDER BY seq")]
    assert sorted((d["product_id"], d["woocommerce_review_id"]) for d in published) == sorted(
        (p, r["woo_review_id"]) for p, r in rows.items())
    assert (await _publish(site)).claimed == 0


async def test_a_permanent_refusal_is_kept_with_its_reason_for_the_moderation_queue(world):
    site = world
    mug, lamp = site.products
    await _submit(site, {mug: 4, lamp: 4}, {mug: "Nice mug."})
    del site.shop.products[mug]  # the product is gone from the store
    assert (await _publish(site)).failed == 1
    auth = {"Authorization": f"Bearer {REVIEWS_TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://reviews") as api:
        [queued] = (await api.get(f"/stores/{site.store}/reviews", headers=auth)).json()
        assert (queued["status"], queued["publish_error"]) == (
            "failed", "POST products/reviews → 404 woocommerce_rest_product_invalid_id")
        assert "reviewer_email" not in queued
        rid = queued["review_id"]
        r = await api.patch(f"/reviews/{rid}", json={"display_name": "<b>Ann</b>"}, headers=auth)
        assert r.status_code == 200 and r.json()["display_name"] == "<b>Ann</b>"
        assert (await api.post(f"/reviews/{rid}/approve", headers=auth)).json()["status"] == "approved"
        assert (await api.post(f"/reviews/{rid}/approve", headers=auth)).status_code == 409
        assert (await api.post("/reviews/00000000-0000-0000-0000-000000000000/reject", headers=auth)).status_code == 404
        assert (await api.get(f"/stores/{site.store}/reviews", params={"status": "lost"}, headers=auth)
                ).status_code == 400
        assert (await api.get(f"/stores/{site.store}/reviews", headers={})).status_code == 401
        assert (await api.post(f"/reviews/{rid}/reject", headers=auth)).json()["status"] == "rejected"
    assert (await _publish(site)).claimed == 0 and site.shop.reviews == {}
