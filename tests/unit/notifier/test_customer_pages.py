"""The public customer pages and the customers API, with the app built (never started) and its
units of work in memory (FastAPI's dependency_overrides): the one-click POST works without the
bearer token only with a valid signed token; a bad or expired token is a 4xx and changes nothing;
GET shows a confirmation, then the preferences page; the API records consent and keeps the
suppression list by hash."""
from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from services.notifier.config import NotifierSettings
from services.notifier.domain.consent import UNSUBSCRIBED, address_hash
from services.notifier.domain.links import SALT, UnsubscribeTarget
from services.notifier.entrypoints.api import create_app
from services.notifier.entrypoints.api_customers import get_transactions
from tests.support.fakes.notifier import memory_unit_of_work

TOKEN = "a-real-token-for-this-test-0123"
SECRET = "pages-test-link-secret-0123456789"
KEY, STORE, TO = "s1:c1", "s1", "ana@example.com"
ONE_CLICK = {"content": "List-Unsubscribe=One-Click",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


@pytest.fixture
def world():
    app = create_app(NotifierSettings(environment="production", api_token=TOKEN, link_secret=SECRET,
                                      public_base_url="https://n.example"))
    tx = memory_unit_of_work()

    @asynccontextmanager
    async def transaction():
        yield tx

    app.dependency_overrides[get_transactions] = lambda: transaction
    links = app.state.service.links
    token = links.token(UnsubscribeTarget(STORE, KEY, address_hash(TO)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return client, tx, token, app


async def test_one_click_post_unsubscribes_without_the_bearer_token(world):
    client, tx, token, _ = world
    await tx.customers.saw_profile(store_id=STORE, key=KEY, email=TO, first_name="Ana", locale=None, country=None)
    r = await client.post(f"/u/{token}", **ONE_CLICK)
    assert r.status_code == 200 and "You are unsubscribed." in r.text
    assert await tx.suppressions.reasons(STORE, address_hash(TO)) == {UNSUBSCRIBED}
    record = await tx.consent.get(KEY)
    assert (record.marketing, record.source) == (False, "unsubscribe")
    # Providers may POST twice: nothing more happens.
    assert (await client.post(f"/u/{token}", **ONE_CLICK)).status_code == 200
    assert len(tx.suppressions.entries) == 1


@pytest.mark.parametrize("bad", ["not-a-token", "eyJ4Ijo.forged.sig"])
async def test_a_bad_token_is_a_400_and_changes_nothing(world, bad):
    client, tx, _, _ = world
    for method, path in (("POST", f"/u/{bad}"), ("GET", f"/u/{bad}"), ("GET", f"/u/{bad}/preferences"),
                         ("POST", f"/u/{bad}/preferences")):
        r = await client.request(method, path, **ONE_CLICK)
        assert r.status_code == 400, (method, path)
        assert "not valid" in r.text
    assert tx.suppressions.entries == {} and tx.consent.records == {}


async def test_a_token_signed_with_another_key_or_expired_is_refused(world):
    client, tx, token, app = world
    forged = URLSafeTimedSerializer("someone-elses-key-000000000000", salt=SALT).dumps([STORE, KEY, "h" * 64])
    assert (await client.post(f"/u/{forged}", **ONE_CLICK)).status_code == 400
    app.state.service.links.max_age_s = -1  # the same app, now with links that have all expired
    r = await client.post(f"/u/{token}", **ONE_CLICK)
    assert r.status_code == 410 and "expired" in r.text
    assert tx.suppressions.entries == {}


async def test_one_click_as_multipart_form_data_works_too(world):
    client, tx, token, _ = world  # RFC 8058 says providers SHOULD send multipart/form-data
    r = await client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200 and await tx.suppressions.reasons(STORE, address_hash(TO)) == {UNSUBSCRIBED}


async def test_a_post_without_the_one_click_body_is_refused(world):
    client, tx, token, _ = world
    r = await client.post(f"/u/{token}", content="hello", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and tx.suppressions.entries == {}
    r = await client.post(f"/u/{token}", content="--x\r\nbroken", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400 and tx.suppressions.entries == {}
    r = await client.post(f"/u/{token}", content="List-Unsubscribe=One-Click&x=" + "a" * 2000,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and tx.suppressions.entries == {}


async def test_a_person_confirms_then_sees_and_changes_preferences(world):
    client, tx, token, _ = world
    page = await client.get(f"/u/{token}")
    assert page.status_code == 200 and "Unsubscribe?" in page.text
    assert f'action="/u/{token}"' in page.text and 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert tx.suppressions.entries == {}  # a GET (a link scanner) changes nothing
    done = await client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert "Marketing emails (offers, points and review requests): <strong>off" in done.text
    prefs = await client.get(f"/u/{token}/preferences")
    assert prefs.status_code == 200 and "<strong>off</strong>" in prefs.text
    back = await client.post(f"/u/{token}/preferences", data={"marketing": "yes"})
    assert back.status_code == 200 and "<strong>on</strong>" in back.text and "Saved." in back.text
    assert await tx.suppressions.reasons(STORE, address_hash(TO)) == set()
    assert (await tx.consent.get(KEY)).marketing is True
    assert (await client.post(f"/u/{token}/preferences", data={"marketing": "maybe"})).status_code == 400


def _auth() -> dict:
    return {"Authorization": f"Bearer {TOKEN}"}


async def test_api_records_consent_and_time_zone(world):
    client, tx, _, _ = world
    await tx.customers.saw_profile(store_id=STORE, key=KEY, email=TO, first_name="Ana", locale=None, country=None)
    r = await client.get(f"/stores/{STORE}/customers/c1/preferences", headers=_auth())
    assert r.status_code == 200 and r.json()["marketing"] is False and r.json()["consent"] is None
    r = await client.put(f"/stores/{STORE}/customers/c1/preferences", headers=_auth(),
                         json={"marketing": True, "timezone": "Asia/Tokyo"})
    assert r.status_code == 200
    body = r.json()
    assert (body["marketing"], body["consent"], body["source"], body["timezone"]) == (True, True, "api",
                                                                                     "Asia/Tokyo")
    for bad in ({"marketing": "perhaps"}, {"marketing": 0}, {"marketing": True, "timezone": "Mars/Base"},
                {"marketing": True, "timezone": "Europe"}, {"other": 1}):
        r = await client.put(f"/stores/{STORE}/customers/c1/preferences", headers=_auth(), json=bad)
        assert r.status_code == 422, bad
    assert (await client.get("/stores/s1/customers/not-a-key/preferences", headers=_auth())).status_code == 422
    assert (await tx.consent.get(KEY)).timezone == "Asia/Tokyo"


async def test_api_suppression_list_by_hash(world):
    client, tx, _, _ = world
    r = await client.post("/suppressions", headers=_auth(),
                          json={"store_id": STORE, "address": "Bob@Example.com", "reason": "hard_bounce"})
    assert r.status_code == 201
    digest = address_hash("bob@example.com")
    assert r.json()["address_hash"] == digest and "bob" not in r.text.lower()
    again = await client.post("/suppressions", headers=_auth(),
                              json={"store_id": STORE, "address_hash": digest, "reason": "hard_bounce"})
    assert again.status_code == 200
    listed = (await client.get("/suppressions", headers=_auth(), params={"store_id": STORE})).json()
    assert [(e["address_hash"], e["reason"]) for e in listed] == [(digest, "hard_bounce")]
    for bad in ({"store_id": STORE, "reason": "hard_bounce"},
                {"store_id": STORE, "address": "x", "address_hash": digest, "reason": "hard_bounce"},
                {"store_id": STORE, "address": "no-at-sign", "reason": "hard_bounce"},
                {"store_id": STORE, "address": "a@b.example", "reason": "because"}):
        assert (await client.post("/suppressions", headers=_auth(), json=bad)).status_code == 422
    gone = await client.delete("/suppressions", headers=_auth(),
                               params={"store_id": STORE, "address_hash": digest, "reason": "hard_bounce"})
    assert gone.status_code == 204 and tx.suppressions.entries == {}
    assert (await client.delete("/suppressions", headers=_auth(), params={
        "store_id": STORE, "address_hash": digest, "reason": "hard_bounce"})).status_code == 404
    await tx.suppressions.add(STORE, digest, "erased")
    assert (await client.delete("/suppressions", headers=_auth(), params={
        "store_id": STORE, "address_hash": digest, "reason": "erased"})).status_code == 409
    assert await tx.suppressions.reasons(STORE, digest) == {"erased"}


async def test_api_message_history_of_a_customer(world):
    client, tx, _, _ = world
    from services.notifier.domain.messages import Draft

    await tx.messages.record_intent(message_id="m1", cause_event_id="e1", cause_type="order.placed",
                                    customer_key=KEY, draft=Draft("order_thanks", TO, "s", "t", "h"))
    r = await client.get(f"/stores/{STORE}/customers/c1/messages", headers=_auth())
    assert r.status_code == 200 and [m["message_id"] for m in r.json()] == ["m1"]
    assert TO not in r.text
    assert (await client.get(f"/stores/{STORE}/customers/c1/messages", headers={})).status_code == 401
