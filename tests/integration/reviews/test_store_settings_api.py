"""A store's review settings through the API on the real database: the defaults shown before
anything is set, a PUT applied to the store's next ask (and not to another store's), a PUT that
leaves a field out giving it back to the default, bad input refused with nothing changed."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from services.reviews import handlers
from tests.support.reviews_pages import TOKEN, reviews_app
from tests.unit.reviews.order_events import COMPLETED_AT, order_event

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def site(stack, uid, tmp_path):
    async with reviews_app(stack, uid, tmp_path / "photos") as site:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://reviews") as c:
            site.client = c
            yield site


async def test_settings_per_store(site):
    c, url = site.client, f"/stores/{site.store}/settings"
    r = await c.get(url, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["effective"]["request_delay_days"] == 7 and r.json()["effective"]["reminder_days"] == 5
    assert r.json()["overrides"]["request_delay_days"] is None

    body = {"request_delay_days": 2, "transit_days_by_country": {"DE": 1}, "incentive_note": "Points for reviews.",
            "transit_days_by_category": {"17": 21}}
    r = await c.put(url, json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    eff = r.json()["effective"]
    assert (eff["request_delay_days"], eff["transit_days_by_country"], eff["transit_days_by_category"],
            eff["incentive_note"], eff["reminder_days"]) == (2, {"DE": 1}, {"17": 21}, "Points for reviews.", 5)
    assert (await c.get(url, headers=AUTH)).json() == r.json()

    await site.apply(order_event(site.store, "order.completed", 1, country="DE"), handlers.on_order_completed)
    await site.apply(order_event(f"{site.store}b", "order.completed", 1, country="DE"), handlers.on_order_completed)
    due = dict(await site.pool.fetch("SELECT store_id, due_at FROM review_requests"))
    assert due == {site.store: COMPLETED_AT + timedelta(days=3), f"{site.store}b": COMPLETED_AT + timedelta(days=14)}

    for bad in ({"request_delay_days": -1}, {"reminder_days": "soon"}, {"transit_days_by_country": {"Germany": 2}},
                {"unknown_setting": 1}, {"delivered_statuses": ["<b>"]}, {"keep_display_name_on_erasure": 0},
                {"reminder_days": 1.0}):
        r = await c.put(url, json=bad, headers=AUTH)
        assert r.status_code == 422, bad
    assert (await c.get(url, headers=AUTH)).json()["effective"]["request_delay_days"] == 2  # unchanged

    r = await c.put(url, json={"reminder_days": 0}, headers=AUTH)
    assert (r.json()["effective"]["request_delay_days"], r.json()["effective"]["reminder_days"]) == (7, 0)
    assert (await c.put(url, json={})).status_code == 401
