"""The review page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright,
the app served over HTTP by uvicorn on the real database. Open the link from the ask, give stars
by keyboard (2 for the first product) and by mouse (5 for the second), see "Can we help?" above
the review form, ask for help, then still post a public review with a photo, see the thank-you —
and find the review row, the photo without metadata, and review.help_requested / review.submitted
in the outbox. A screenshot of each step is kept under .state/test-output/review_page/."""
from __future__ import annotations

import asyncio
import json
import shutil
import socket
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright

from tests.support.images import exif_of, jpeg_with_location
from tests.support.reviews_pages import reviews_app

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[3] / ".state" / "test-output" / "review_page"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def served(stack, uid, tmp_path):
    port = _free_port()
    async with reviews_app(stack, uid, tmp_path / "photos", public_url=f"http://127.0.0.1:{port}") as site:
        server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port, lifespan="off",
                                               log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield site
        finally:
            server.should_exit = True
            await task


async def test_stars_by_keyboard_and_mouse_help_and_a_review_with_a_photo(served, tmp_path):
    site = served
    url = await site.asked()
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(jpeg_with_location((800, 600)))
    shutil.rmtree(SHOTS, ignore_errors=True)  # only this run's screenshots
    SHOTS.mkdir(parents=True)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        try:
            await page.goto(url)
            assert await page.title() == "Wie war es?"
            await page.screenshot(path=SHOTS / "1-how-was-it.png", full_page=True)

            # Keyboard: Tab into the first product's stars, arrow right from 1 to 2.
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.name") == "rating_5"
            await page.keyboard.press("ArrowRight")
            assert await page.is_checked("#rating_5_2")
            # Mouse: click the second product's 5-star label.
            await page.click("label[for=rating_9_5]")
            assert await page.is_checked("#rating_9_5") and await page.is_checked("#rating_5_2")
            await page.screenshot(path=SHOTS / "2-stars-chosen.png", full_page=True)
            await page.click("#continue")

            await page.wait_for_selector("#help-title")
            assert await page.inner_text("#help-title") == "Können wir helfen?"
            assert await page.is_visible("#text_5")  # the review form is right there too: no gating
            assert await page.input_value("#display_name") == "Ann"
            await page.screenshot(path=SHOTS / "3-can-we-help.png", full_page=True)
            await page.fill("#help_message", "Der Griff ist abgebrochen.")
            await page.click("#help-submit")
            await page.wait_for_selector("#help-sent")
            await page.screenshot(path=SHOTS / "4-help-sent.png", full_page=True)

            assert await page.is_checked("#r_5_2")  # the stars chosen are kept
            await page.fill("#title_5", "Schade")
            await page.fill("#text_5", "Der Griff hielt nur eine Woche. <b>Nicht gut</b>.")
            await page.set_input_files("#photo_5", str(photo))
            await page.fill("#display_name", "Ann R.")
            await page.screenshot(path=SHOTS / "5-review-written.png", full_page=True)
            await page.click("#submit-review")
            await page.wait_for_selector("#thanks")
            assert await page.inner_text("#thanks") == "Vielen Dank!"
            await page.screenshot(path=SHOTS / "6-thank-you.png", full_page=True)
        finally:
            await browser.close()

    [row] = await site.pool.fetch("SELECT product_id, rating, title, body, display_name, status, photo FROM reviews")
    assert (row["product_id"], row["rating"], row["title"], row["display_name"], row["status"]) == (
        5, 2, "Schade", "Ann R.", "approved")
    assert row["body"] == "Der Griff hielt nur eine Woche. <b>Nicht gut</b>."
    stored = site.service.settings.photo_dir / row["photo"]
    assert exif_of(stored.read_bytes()) == {}
    assert dict(await site.pool.fetch("SELECT product_id, rating FROM ratings")) == {5: 2, 9: 5}
    events = {r["event_type"]: json.loads(r["payload"])["data"] for r in await site.pool.fetch(
        "SELECT event_type, convert_from(payload, 'UTF8') AS payload FROM outbox WHERE event_type <> 'review.requested'")}
    assert set(events) == {"review.help_requested", "review.submitted"}
    assert (events["review.submitted"]["product_id"], events["review.submitted"]["rating"],
            events["review.submitted"]["has_photo"]) == (5, 2, True)
    assert (events["review.help_requested"]["rating"], events["review.help_requested"]["message"]) == (
        2, "Der Griff ist abgebrochen.")
    assert sorted(p.name for p in SHOTS.iterdir()) == [
        "1-how-was-it.png", "2-stars-chosen.png", "3-can-we-help.png", "4-help-sent.png", "5-review-written.png",
        "6-thank-you.png"]
