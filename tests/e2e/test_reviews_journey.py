"""Reviews end to end (issue 13), every service a real process on the real stack: an order completed
(signed webhooks into ingest) → the reviews clock moved past the request's due time (`send-due
--at`, the scheduler's pass at a given moment; the store asks on the day of completion, as the
notifier sends on the real clock) → the ask's email in the SMTP sink with its signed link →
the link opened in Debian's Chromium (Playwright), stars and words given → the reviews posted to the
WooCommerce store simulator (credentials from ingest) → loyalty's review bonus on the balance and the
notifier's thank-you email. Screenshots under .state/test-output/e2e_reviews/."""
from __future__ import annotations

import asyncio
import html
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from shared.ids import customer_key
from tests.e2e.conftest import PORTS, ROOT, SIM_CK, SIM_CS, service_env
from tests.e2e.journey import AUTH, eventually, mails, register_store
from tests.support.woo import deliver, order, wc_time

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / ".state" / "test-output" / "e2e_reviews"
REVIEW_BONUS = 25


def send_due(stack, at: datetime) -> dict:
    """The reviews scheduler's one pass with the clock at `at` (the running service's settings)."""
    out = subprocess.run([sys.executable, "-m", "services.reviews.entrypoints.cli", "send-due", "--at", at.isoformat()],
                         cwd=ROOT, env=service_env(stack, "reviews", PORTS["reviews"]), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


async def test_completed_order_to_a_published_review_bonus_and_thanks(stack, services, storesim, uid):
    mail = f"http://127.0.0.1:{stack.mail_http_port}"
    store_id = f"e2e-rev-{uid}"
    shop = storesim.store
    mug, lamp = shop.create_product(f"Mug {uid}", "6.00"), shop.create_product(f"Lamp {uid}", "12.00")
    placed = order(uid, status="processing")
    for item, product in zip(placed["line_items"], (mug, lamp)):
        item.update(product_id=product["id"], variation_id=0, name=product["name"])
    email = placed["billing"]["email"]
    key = customer_key(store_id, 0, email)
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
    completed = dict(placed, status="completed", date_completed_gmt=wc_time(now), date_modified_gmt=wc_time(now))
    shop.load_order(completed)  # the store knows the order: its reviewers are verified buyers

    async with httpx.AsyncClient(timeout=10) as client:
        source, secret = await register_store(client, services["ingest"], store_id, rest_url=storesim.url,
                                              consumer_key=SIM_CK, consumer_secret=SIM_CS)
        # Ask on the day of completion: the notifier sends an ask at its due time on the real clock
        # (it has no clock to move), so the due time must not lie two weeks ahead of it.
        r = await client.put(f"{services['reviews']}/stores/{store_id}/settings", headers=AUTH,
                             json={"request_delay_days": 0, "default_transit_days": 0})
        assert r.status_code == 200, r.text
        r = await client.put(f"{services['loyalty']}/stores/{store_id}/rules", headers=AUTH,
                             json={"review_bonus": REVIEW_BONUS})
        assert r.status_code == 200, r.text
        # The ask is marketing: the customer said yes (the store's staff recorded it).
        r = await client.put(f"{services['notifier']}/stores/{store_id}/customers/{key.split(':', 1)[1]}/preferences",
                             headers=AUTH, json={"marketing": True})
        assert r.status_code == 200, r.text

        hook = f"{services['ingest']}/webhooks/woocommerce"
        for topic, body in (("order.created", placed), ("order.updated", completed)):
            r = await deliver(client, hook, source=source, secret=secret, topic=topic, body=body)
            assert r.status_code == 200, r.text

        async def pending_request():
            r = await client.get(f"{services['reviews']}/requests", params={"customer_key": key}, headers=AUTH)
            return [q for q in r.json() if q["status"] == "pending"]
        [req] = await eventually(pending_request)
        due = datetime.fromisoformat(req["due_at"])
        assert due == now  # the store's settings: no transit, no time to try

        async def available():
            r = await client.get(f"{services['loyalty']}/customers/{key}/balance", headers=AUTH)
            return r.json()["available"]
        earned = await eventually(available)
        assert earned == 18

        # The reviews clock moved (the running service's own scheduler only looks at start-up, see
        # conftest): a second before the due time nothing is asked; a day on, the ask goes out, once.
        assert send_due(stack, due - timedelta(seconds=1))["asked"] == 0
        assert send_due(stack, due + timedelta(days=1)) == {"at": (due + timedelta(days=1)).isoformat(), "asked": 1,
                                                            "skipped": 0, "reminded": 0}
        assert send_due(stack, due + timedelta(days=2))["asked"] == 0

        [ask] = await eventually(lambda: mails(client, mail, email, "review_request"))
        links = set(re.findall(rf"http://127\.0\.0\.1:{PORTS['reviews']}/r/[A-Za-z0-9_.\-]+", ask["text"]))
        assert len(links) == 1, ask["text"]
        [link] = links
        assert email not in link and str(placed["id"]) not in link  # the token names only the request
        assert html.escape(link) in ask["html"] or link in ask["html"]
        for product in (mug, lamp):
            assert product["name"] in ask["text"]

        shutil.rmtree(SHOTS, ignore_errors=True)
        SHOTS.mkdir(parents=True)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page()
            try:
                await page.goto(link)
                await page.screenshot(path=SHOTS / "1-how-was-it.png", full_page=True)
                await page.click(f"label[for=rating_{mug['id']}_5]")
                await page.click(f"label[for=rating_{lamp['id']}_4]")
                await page.click("#continue")
                await page.wait_for_selector(f"#text_{mug['id']}")
                assert not await page.is_visible("#help-title")  # 4 and 5 stars: straight to the review
                await page.fill(f"#title_{mug['id']}", "Holds a lot")
                await page.fill(f"#text_{mug['id']}", "Big mug, keeps the tea hot.")
                await page.fill(f"#title_{lamp['id']}", "Nice light")
                await page.fill(f"#text_{lamp['id']}", "Warm light, a little wobbly.")
                await page.fill("#display_name", "John D.")
                await page.screenshot(path=SHOTS / "2-review-written.png", full_page=True)
                await page.click("#submit-review")
                await page.wait_for_selector("#thanks")
                await page.screenshot(path=SHOTS / "3-thank-you.png", full_page=True)
            finally:
                await browser.close()

        # Posted to WooCommerce, once each, as the verified buyer's reviews.
        async def published():
            got = [r for r in shop.reviews.values() if r["product_id"] in (mug["id"], lamp["id"])]
            return got if len(got) == 2 else None
        posted = {r["product_id"]: r for r in await eventually(published)}
        assert {p: (r["rating"], r["review"], r["reviewer"], r["reviewer_email"], r["verified"])
                for p, r in posted.items()} == {
            mug["id"]: (5, "Holds a lot\n\nBig mug, keeps the tea hot.", "John D.", email, True),  # title, then text
            lamp["id"]: (4, "Nice light\n\nWarm light, a little wobbly.", "John D.", email, True)}

        async def rewarded():
            return await available() == earned + 2 * REVIEW_BONUS
        await eventually(rewarded)
        r = await client.get(f"{services['loyalty']}/customers/{key}/ledger", headers=AUTH)
        bonuses = [e for e in r.json() if e["reason"] == "review.submitted"]
        assert sorted(e["points"] for e in bonuses) == [REVIEW_BONUS, REVIEW_BONUS]

        # The reviews service recorded WooCommerce's ids: published, nothing left in the queue.
        r = await client.get(f"{services['reviews']}/stores/{store_id}/reviews", params={"status": "published"},
                             headers=AUTH)
        assert r.status_code == 200, r.text
        assert {(v["product_id"], v["woocommerce_review_id"]) for v in r.json()} == {
            (p, w["id"]) for p, w in posted.items()}

        # One thank-you for the request (however many products it reviewed).
        [thanks] = await eventually(lambda: mails(client, mail, email, "review_thanks"))
        assert email in thanks["headers"]["To"]
        await asyncio.sleep(1.0)  # let a duplicate surface before counting
        assert len(await mails(client, mail, email, "review_thanks")) == 1
        assert len(await mails(client, mail, email, "review_request")) == 1
    assert sorted(p.name for p in SHOTS.iterdir()) == ["1-how-was-it.png", "2-review-written.png", "3-thank-you.png"]
