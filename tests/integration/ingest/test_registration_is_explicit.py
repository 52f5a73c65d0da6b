"""Registration is explicit (issue 15, point 7): POST /stores with an id that exists is a 409 and
changes nothing, whatever the body; a store's source, REST access, time zone and locale change by
PATCH /stores/{id} (logged by field names), its secret only by rotation."""
from __future__ import annotations

import json

from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _status(ingest, source: str, secret: str, uid: str) -> int:
    r = await deliver(ingest.http, HOOK, source=source, secret=secret, topic="order.created", body=order(uid))
    return r.status_code


async def _row(ingest) -> dict:
    return dict(await ingest.pool.fetchrow("SELECT * FROM stores WHERE store_id = $1", ingest.store_id))


async def test_a_second_post_with_the_same_id_is_refused_and_the_store_keeps_receiving(ingest, uid):
    before = await _row(ingest)
    assert await _status(ingest, ingest.source, ingest.secret, uid) == 200
    bodies = [
        {"webhook_secret": ingest.secret},  # the same body again
        {"webhook_secret": ingest.secret, "timezone": "Europe/Paris", "rest_url": "https://rest.example"},
        {"webhook_secret": f"hostile-{uid}-0123456789"},  # another secret
        {"webhook_secret": f"hostile-{uid}-0123456789", "source_url": f"https://hijack-{uid}.example/"},
    ]
    for extra in bodies:
        body = {"store_id": ingest.store_id, "source_url": ingest.source, **extra}
        r = await ingest.http.post("/stores", headers=AUTH, json=body)
        assert r.status_code == 409 and r.json()["error"] == "store_exists", r.text
        assert f"PATCH /stores/{ingest.store_id}" in r.json()["message"]
        assert extra["webhook_secret"] not in r.text
    assert await _row(ingest) == before  # nothing changed, not even the encryption of a secret
    assert await _status(ingest, ingest.source, ingest.secret, uid) == 200
    assert await _status(ingest, ingest.source, f"hostile-{uid}-0123456789", uid) == 401
    assert await _status(ingest, f"https://hijack-{uid}.example/", f"hostile-{uid}-0123456789", uid) == 401


async def test_patch_changes_the_source_and_deliveries_from_the_new_source_verify(ingest, uid, capfd):
    new_source = f"https://moved-{uid}.example/"
    r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers=AUTH,
                                json={"source_url": new_source, "timezone": "Europe/Berlin", "locale": "de_DE"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["source_url"], got["timezone"], got["locale"]) == (new_source, "Europe/Berlin", "de_DE")
    assert (await ingest.http.get("/stores", headers=AUTH)).status_code == 200
    assert await _status(ingest, new_source, ingest.secret, uid) == 200
    assert await _status(ingest, ingest.source, ingest.secret, uid) == 401  # the old source is nobody's now
    stored = await ingest.pool.fetchval("SELECT count(*) FROM deliveries WHERE store_id = $1", ingest.store_id)
    assert stored == 1

    # A field not given stays; REST access is set and cleared the same way.
    r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers=AUTH, json={
        "rest_url": f"https://moved-{uid}.example", "consumer_key": f"ck_{uid}_012345", "consumer_secret": f"cs_{uid}_0123"})
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Berlin"
    assert r.json()["rest_url"] == f"https://moved-{uid}.example/"
    assert f"ck_{uid}" not in r.text and f"cs_{uid}" not in r.text
    r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers=AUTH,
                                json={"rest_url": None, "consumer_key": None, "consumer_secret": None})
    assert r.status_code == 200 and r.json()["rest_url"] is None
    row = await ingest.pool.fetchrow("SELECT consumer_key, consumer_secret FROM stores WHERE store_id = $1",
                                     ingest.store_id)
    assert (row["consumer_key"], row["consumer_secret"]) == (None, None)
    assert await _status(ingest, new_source, ingest.secret, uid) == 200  # the secret never moved

    out, err = capfd.readouterr()
    updates = [json.loads(line) for line in (out + err).splitlines()
               if line.startswith("{") and '"store_updated"' in line]
    assert [u["fields"] for u in updates] == [
        ["locale", "source_url", "timezone"], ["consumer_key", "consumer_secret", "rest_url"],
        ["consumer_key", "consumer_secret", "rest_url"]]
    assert [u["credentials_changed"] for u in updates] == [False, True, True]
    assert f"ck_{uid}" not in out + err and f"cs_{uid}" not in out + err and ingest.secret not in out + err


async def test_patch_refuses_an_unknown_store_a_bad_body_a_secret_and_a_missing_token(ingest, uid):
    before = await _row(ingest)
    path = f"/stores/{ingest.store_id}"
    r = await ingest.http.patch(f"/stores/nobody-{uid}", headers=AUTH, json={"timezone": "UTC"})
    assert (r.status_code, r.json()["detail"]) == (404, "no such store")
    for bad in ({}, {"webhook_secret": f"new-{uid}-0123456789"}, {"previous_secret": "x"},
                {"source_url": "not a url"}, {"source_url": None}, {"timezone": None}, {"timezone": ""},
                {"rest_url": "ftp://x"}, {"consumer_key": "k" * 201}):
        r = await ingest.http.patch(path, headers=AUTH, json=bad)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (bad, r.text)
    r = await ingest.http.patch(path, headers={**AUTH, "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422
    assert (await ingest.http.patch(path, json={"timezone": "UTC"})).status_code == 401
    assert (await ingest.http.patch(path, headers={"Authorization": "Bearer wrong"},
                                    json={"timezone": "UTC"})).status_code == 401
    # Another store's source URL is a 409.
    other = f"https://taken-{uid}.example/"
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": f"tk-{uid}", "source_url": other, "webhook_secret": f"taken-{uid}-0123456789"})
    assert r.status_code == 201
    r = await ingest.http.patch(path, headers=AUTH, json={"source_url": other})
    assert r.status_code == 409, r.text
    assert await _row(ingest) == before
    assert await _status(ingest, ingest.source, ingest.secret, uid) == 200


async def test_openapi_documents_patch(ingest):
    spec = (await ingest.http.get("/openapi.json")).json()
    op = spec["paths"]["/stores/{store_id}"]["patch"]
    assert op["security"] == [{"HTTPBearer": []}]
    assert {"200", "401", "404", "409", "422"} <= set(op["responses"])
    assert "webhook_secret" not in spec["components"]["schemas"]["StorePatch"]["properties"]
    assert "store_exists" in spec["paths"]["/stores"]["post"]["responses"]["409"]["description"]
