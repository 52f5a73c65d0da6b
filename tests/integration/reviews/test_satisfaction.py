"""Satisfaction measured over the real database and served on the API and as Prometheus metrics:
three asks, two answered (one of them unhappy, who asked for help and still reviewed), one silent —
conversion, response rate, stars, help requests and time to review, per store and per product."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from services.reviews import reviewing
from tests.support.reviews_pages import TOKEN, reviews_app
from tests.unit.reviews.order_events import COMPLETED_AT

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def site(stack, uid, tmp_path):
    async with reviews_app(stack, uid, tmp_path / "photos") as site:
        yield site


async def test_figures_per_store_and_product_on_the_api_and_in_metrics(site):
    tokens = {}
    for n in (1, 2, 3):  # asked 30, 60 and 90 days after the first completion
        tokens[n] = urlsplit(await site.asked(n, customer=f"c{n}")).path.rsplit("/", 1)[1]
    tx, links, now = site.service.transactions(site.pool), site.service.links, site.clock.now()

    async def review(n: int, ratings: dict[int, int], texts: dict[int, str]) -> None:
        await reviewing.rate(tx, links, tokens[n], {p: str(r) for p, r in ratings.items()}, now)
        await reviewing.submit(tx, links, site.service.photos, tokens[n],
                               [reviewing.Entry(p, str(ratings[p]), "", t) for p, t in texts.items()], None, now,
                               limits=site.service.photo_limits, moderation=site.service.moderation)

    await review(1, {5: 5, 9: 4}, {5: "Great mug."})
    await reviewing.ask_help(tx, links, tokens[2], "The lamp flickers.", now)
    await review(2, {5: 3, 9: 2}, {9: "Flickers."})
    await reviewing.rate_satisfaction(tx, links, tokens[1], "5", now)
    await reviewing.rate_satisfaction(tx, links, tokens[2], "2", now)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://reviews") as api:
        params = {"since": COMPLETED_AT.isoformat(), "until": (now + timedelta(seconds=1)).isoformat()}
        r = await api.get(f"/stores/{site.store}/satisfaction", params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        body = r.json()
        assert {k: body[k] for k in ("asked", "answered", "reviewed", "reviews", "help_requests", "conversion",
                                     "response_rate", "average_rating")} == {
            "asked": 3, "answered": 2, "reviewed": 2, "reviews": 2, "help_requests": 1, "conversion": 0.6667,
            "response_rate": 0.6667, "average_rating": 3.5}
        assert body["ratings"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
        assert (body["csat_average"], body["csat"]) == (3.5, {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1})
        # Reviews 60 and 30 days after their asks.
        assert (body["median_hours_to_review"], body["p90_hours_to_review"]) == (1080.0, 1368.0)

        mug = (await api.get(f"/stores/{site.store}/satisfaction", params={**params, "product_id": 5},
                             headers=AUTH)).json()
        assert (mug["asked"], mug["reviewed"], mug["reviews"], mug["average_rating"], mug["ratings"]["3"]) == (
            3, 1, 1, 4.0, 1)
        empty = (await api.get("/stores/nobody/satisfaction", headers=AUTH)).json()
        assert (empty["asked"], empty["conversion"], empty["average_rating"]) == (0, None, None)
        assert (await api.get(f"/stores/{site.store}/satisfaction", params={"since": now.isoformat(),
                                                                            "until": COMPLETED_AT.isoformat()},
                              headers=AUTH)).status_code == 400
        assert (await api.get(f"/stores/{site.store}/satisfaction", params={"since": "2026-03-01T10:00:00"},
                              headers=AUTH)).status_code == 400  # a time without its offset
        assert (await api.get(f"/stores/{site.store}/satisfaction", params={"until": "0.5"},
                              headers=AUTH)).status_code == 400  # not read as a Unix time
        assert (await api.get(f"/stores/{site.store}/satisfaction")).status_code == 401

        metrics = (await api.get("/metrics")).text
    label = f'store="{site.store}"'
    assert f"reviews_requests_sent_total{{{label}}} 3.0" in metrics
    assert f"reviews_submitted_total{{{label}}} 2.0" in metrics
    assert f"reviews_help_requests_total{{{label}}} 1.0" in metrics
    assert f'reviews_rating_bucket{{le="2.0",{label}}} 1.0' in metrics
    assert f"reviews_rating_sum{{{label}}} 7.0" in metrics  # the two reviews' stars: 5 and 2
    assert f'reviews_time_to_review_seconds_bucket{{le="2.592e+06",{label}}} 1.0' in metrics  # within 30 days: 1
    assert f'reviews_time_to_review_seconds_bucket{{le="+Inf",{label}}} 2.0' in metrics
