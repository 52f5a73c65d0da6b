"""The customer's review pages over the real database, through the app's HTTP interface: the
signed link's pages in the order's language, stars → (help offered for a low rating, never instead
of) the review form → a review with a photo stored, announced once and its photo served without
metadata; bad links and bad input answered with a clear page and nothing stored; HTML escaped."""
from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.images import exif_of, jpeg_with_location
from tests.support.reviews_pages import reviews_app


@pytest.fixture
async def site(stack, uid, tmp_path):
    async with reviews_app(stack, uid, tmp_path / "photos") as site:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://reviews.test") as c:
            site.client = c
            yield site


async def _counts(site) -> tuple[int, int, int, int]:
    return (await site.pool.fetchval("SELECT count(*) FROM ratings"), await site.pool.fetchval("SELECT count(*) FROM reviews"),
            await site.pool.fetchval("SELECT count(*) FROM help_requests"),
            await site.pool.fetchval("SELECT count(*) FROM outbox WHERE event_type <> 'review.requested'"))


async def test_stars_help_and_a_review_with_a_photo(site):
    c = site.client
    path = urlsplit(await site.asked()).path
    page = await c.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in page.text and "Wie war es?" in page.text and "p5" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"

    r = await c.post(path, data={"rating_5": "2", "rating_9": "5"})
    assert (r.status_code, r.headers["location"]) == (303, f"{path}/review")
    form = await c.get(f"{path}/review")
    assert "Können wir helfen?" in form.text  # a 2-star rating: help offered…
    assert 'name="text_5"' in form.text and 'name="text_9"' in form.text  # …above the review form, not instead
    assert 'value="Ann"' in form.text  # the display name pre-filled

    r = await c.post(f"{path}/help", data={"message": "Der Griff ist <b>abgebrochen</b>."})
    assert r.status_code == 303
    assert "der Shop hat Ihre Nachricht" in (await c.get(f"{path}/review")).text

    files = {"photo_5": ("holiday.jpg", jpeg_with_location(), "image/jpeg")}
    data = {"rating_5": "2", "title_5": "Griff <script>alert(1)</script>", "text_5": "Leider kaputt.",
            "rating_9": "5", "text_9": "", "display_name": "Ann R."}
    r = await c.post(f"{path}/review", data=data, files=files)
    assert (r.status_code, r.headers["location"]) == (303, f"{path}/thanks")
    thanks = await c.get(r.headers["location"])
    assert "Vielen Dank!" in thanks.text and "Wie zufrieden sind Sie insgesamt" in thanks.text  # optional CSAT
    assert (await c.post(f"{path}/csat", data={"score": "9"})).status_code == 400
    r = await c.post(f"{path}/csat", data={"score": "4"})
    assert (r.status_code, r.headers["location"]) == (303, f"{path}/thanks")
    assert "Danke für Ihre Antwort." in (await c.get(f"{path}/thanks")).text
    assert await site.pool.fetchval("SELECT score FROM csat") == 4

    [row] = await site.pool.fetch("SELECT product_id, rating, title, body, display_name, status, photo FROM reviews")
    assert dict(row) | {"photo": None} == {"product_id": 5, "rating": 2, "title": "Griff <script>alert(1)</script>",
                                           "body": "Leider kaputt.", "display_name": "Ann R.", "status": "approved",
                                           "photo": None}
    photo = await c.get(f"/photos/{row['photo']}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert exif_of(photo.content) == {}  # no location, no camera
    types = [t for (t,) in await site.pool.fetch("SELECT event_type FROM outbox WHERE event_type <> 'review.requested'"
                                                  " ORDER BY seq")]
    assert types == ["review.help_requested", "review.submitted"]

    # The same form again (a double click, a reload): one review, one event.
    r = await c.post(f"{path}/review", data=data, files={"photo_5": ("holiday.jpg", jpeg_with_location(), "image/jpeg")})
    assert r.status_code == 303
    assert await _counts(site) == (2, 1, 1, 2)
    assert len(list(site.service.settings.photo_dir.iterdir())) == 1


@pytest.mark.parametrize("change,status,text", [
    (lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), 403, "has been altered"),
    (lambda t: "x" * 40, 403, "has been altered"),
    (None, 410, "This link has expired"),
], ids=["altered", "forged", "expired"])
async def test_a_bad_link_is_a_clear_page_and_stores_nothing(site, change, status, text):
    c = site.client
    path = urlsplit(await site.asked()).path
    token = path.rsplit("/", 1)[1]
    if change is None:
        site.clock.advance(days=61)  # past link_max_age_days
        bad = path
    else:
        bad = f"/r/{change(token)}"
    for method, suffix, kwargs in (("GET", "", {}), ("POST", "", {"data": {"rating_5": "5", "rating_9": "5"}}),
                                   ("POST", "/review", {"data": {"rating_5": "5", "text_5": "x"}}),
                                   ("POST", "/help", {"data": {"message": "help"}}),
                                   ("POST", "/help", {}), ("POST", "/review", {})):  # bad link and no form
        r = await c.request(method, bad + suffix, **kwargs)
        assert r.status_code == status, (method, suffix, r.text)
        # A link that can't be read names no order, so no language: English.
        assert "This link doesn&#39;t work" in r.text and text in r.text
    assert await _counts(site) == (0, 0, 0, 0)


async def test_bad_input_is_refused_with_its_message_and_html_is_escaped(site):
    c = site.client
    path = urlsplit(await site.asked()).path
    await c.post(path, data={"rating_5": "4", "rating_9": "4"})
    disguised = {"photo_5": ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")}
    r = await c.post(f"{path}/review", data={"rating_5": "4", "title_5": "<script>alert(2)</script>",
                                             "text_5": "<img src=x onerror=alert(3)>"}, files=disguised)
    assert r.status_code == 400
    assert "Diese Datei ist kein Foto" in r.text
    assert "<script>alert(2)" not in r.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in r.text  # kept, escaped
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(3)&gt;" in r.text

    r = await c.post(f"{path}/review", data={"rating_77": "5", "text_77": "not mine"})
    assert r.status_code == 400 and "gehört nicht zu dieser Bestellung" in r.text
    r = await c.post(f"{path}/review", data={"rating_5": "4", "text_5": ""})
    assert r.status_code == 400 and "ein paar Worte" in r.text
    big = {"photo_5": ("big.jpg", b"\xff\xd8" + b"0" * (site.service.settings.photo_max_bytes + 10), "image/jpeg")}
    r = await c.post(f"{path}/review", data={"rating_5": "4", "text_5": "ok"}, files=big)
    assert r.status_code == 400 and "zu groß" in r.text
    r = await c.post(path, data={"rating_5": "7", "rating_9": "4"})
    assert r.status_code == 400 and "1 bis 5 Sterne" in r.text
    r = await c.post(f"{path}/help", data={"message": ""})
    assert r.status_code == 400
    assert await _counts(site) == (2, 0, 0, 0)  # only the first, valid stars
    assert list(site.service.settings.photo_dir.glob("*")) == []
