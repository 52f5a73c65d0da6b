"""Store secrets against the real database and the real app: what re-registering and rotating mean
(no earlier secret survives), webhook secrets and REST credentials encrypted at rest (read from the
table directly), rows from before encryption sealed at start-up, keys that rotate, and no secret
in any API answer or log line."""
from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client import REGISTRY

from services.ingest.adapters.secret_box import SecretBox, key_id
from services.ingest.adapters.stores import PgStores
from services.ingest.config import DEV_SECRETS_KEY, IngestSettings
from services.ingest.entrypoints.api import create_app
from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order
from tests.unit.ingest.test_stores_contract import check_stores_contract

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _status(ingest, secret: str, uid: str, source: str | None = None) -> int:
    r = await deliver(ingest.http, HOOK, source=source or ingest.source, secret=secret, topic="order.created",
                      body=order(uid))
    return r.status_code


def _stores(ingest) -> PgStores:
    return ingest.app.state.service.stores


async def _row(pool, store_id: str) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM stores WHERE store_id = $1", store_id)


def _plain_text_in(row: asyncpg.Record, *secrets: str) -> list[str]:
    """Columns of the row that hold one of `secrets` in any form a reader could spot."""
    return [k for k, v in row.items() for s in secrets if v is not None and s in str(v)]


async def test_pg_stores_keep_the_contract(ingest, uid):
    await check_stores_contract(PgStores(ingest.pool, SecretBox([DEV_SECRETS_KEY])), uid)


async def test_a_rotated_out_secret_never_survives_a_re_registration(ingest, uid):
    """The issue's S1/S2/S3: register S1, rotate to S2, register again with S3. Before, the
    registration replaced S2 silently and left S1 valid as a hidden previous secret."""
    s1, s2, s3 = ingest.secret, f"s2-{uid}-abcdefghij", f"s3-{uid}-abcdefghij"
    r = await ingest.http.post(f"/stores/{ingest.store_id}/rotate-secret", headers=AUTH,
                               json={"new_secret": s2, "overlap_seconds": 3600})
    assert r.status_code == 200 and r.json()["previous_secret_until"]
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": ingest.store_id, "source_url": ingest.source, "webhook_secret": s3})
    assert r.status_code == 409 and r.json()["error"] == "store_exists", r.text
    assert "rotate-secret" in r.json()["message"] and s3 not in r.text and s2 not in r.text
    # Nothing changed: S2 current, S1 for its overlap, S3 nothing.
    assert [await _status(ingest, s, uid) for s in (s2, s1, s3)] == [200, 200, 401]
    # Even with the current secret a registration is refused; a change is a PATCH, and keeps the overlap.
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": ingest.store_id, "source_url": ingest.source, "webhook_secret": s2, "timezone": "Europe/Paris"})
    assert r.status_code == 409 and r.json()["error"] == "store_exists"
    r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers=AUTH, json={"timezone": "Europe/Paris"})
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Paris"
    assert [await _status(ingest, s, uid) for s in (s2, s1)] == [200, 200]

    # Rotating again keeps exactly the one before: S1 is gone for good.
    r = await ingest.http.post(f"/stores/{ingest.store_id}/rotate-secret", headers=AUTH,
                               json={"new_secret": s3, "overlap_seconds": 3600})
    assert r.status_code == 200
    assert [await _status(ingest, s, uid) for s in (s3, s2, s1)] == [200, 200, 401]
    row = await _row(ingest.pool, ingest.store_id)
    box = SecretBox([DEV_SECRETS_KEY])
    assert {box.open(row["webhook_secret"]), box.open(row["previous_secret"])} == {s3, s2}

    # Overlap 0 replaces every earlier secret, in the table too.
    r = await ingest.http.post(f"/stores/{ingest.store_id}/rotate-secret", headers=AUTH,
                               json={"new_secret": s1 + "-new", "overlap_seconds": 0})
    assert r.status_code == 200 and r.json()["previous_secret_until"] is None
    assert [await _status(ingest, s, uid) for s in (s1 + "-new", s3, s2, s1)] == [200, 401, 401, 401]
    row = await _row(ingest.pool, ingest.store_id)
    assert row["previous_secret"] is None and row["previous_secret_until"] is None


async def test_secrets_and_rest_credentials_are_encrypted_at_rest_and_never_shown(ingest, uid, capfd):
    secret, ck, cs = f"wh-{uid}-0123456789", f"ck_{uid}_0123456789", f"cs_{uid}_0123456789"
    sid = f"enc-{uid}"
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": sid, "source_url": f"https://enc-{uid}.example/", "webhook_secret": secret,
        "rest_url": f"https://enc-{uid}.example", "consumer_key": ck, "consumer_secret": cs})
    assert r.status_code == 201
    rotated = f"wh2-{uid}-0123456789"
    r2 = await ingest.http.post(f"/stores/{sid}/rotate-secret", headers=AUTH,
                                json={"new_secret": rotated, "overlap_seconds": 600})
    listed = await ingest.http.get("/stores", headers=AUTH)
    for answer in (r, r2, listed):
        assert not any(s in answer.text for s in (secret, rotated, ck, cs)), answer.text
    assert await _status(ingest, rotated, uid, f"https://enc-{uid}.example/") == 200

    row = await _row(ingest.pool, sid)
    assert _plain_text_in(row, secret, rotated, ck, cs) == []
    box = SecretBox([DEV_SECRETS_KEY])
    assert [box.open(row[c]) for c in ("webhook_secret", "previous_secret", "consumer_key", "consumer_secret")] == [
        rotated, secret, ck, cs]
    assert row["secrets_key_id"] == key_id(DEV_SECRETS_KEY)
    # A delivery, a 401 and a 409 later, no log line carries a secret either.
    await _status(ingest, "wrong-secret-0123456789", uid, f"https://enc-{uid}.example/")
    await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": sid, "source_url": f"https://enc-{uid}.example/", "webhook_secret": secret})
    # A PATCH of the REST credentials logs which fields changed, never their values.
    ck2, cs2 = f"ck2_{uid}_0123456789", f"cs2_{uid}_0123456789"
    r = await ingest.http.patch(f"/stores/{sid}", headers=AUTH, json={"consumer_key": ck2, "consumer_secret": cs2})
    assert r.status_code == 200 and ck2 not in r.text and cs2 not in r.text
    box_row = await _row(ingest.pool, sid)
    assert _plain_text_in(box_row, ck2, cs2) == []
    assert [box.open(box_row[c]) for c in ("consumer_key", "consumer_secret")] == [ck2, cs2]
    out, err = capfd.readouterr()
    assert '"store_updated"' in out + err and '"consumer_key"' in out + err
    assert not any(s in out + err for s in (ck2, cs2))
    assert not any(s in out + err for s in (secret, rotated, ck, cs))


async def test_the_webhook_path_decrypts_once_per_cache_fill_not_per_delivery(ingest, uid):
    await _status(ingest, ingest.secret, uid)  # fills the cache
    before = REGISTRY.get_sample_value("ingest_store_secrets_decrypted_total")
    statuses = [await _status(ingest, ingest.secret, uid) for _ in range(20)]
    assert statuses == [200] * 20
    # Within the cache's 5 s nothing is decrypted again (a refill would be 1 token: no REST keys).
    assert REGISTRY.get_sample_value("ingest_store_secrets_decrypted_total") - before <= 1


def _settings(stack, **over) -> IngestSettings:
    return IngestSettings(database_url=stack.service_dsn("ingest"), kafka_bootstrap=stack.bootstrap_servers(),
                          api_token=TOKEN, reconcile_interval_s=0, **over)


async def _served(stack, settings: IngestSettings, check) -> None:
    """Run `check(client, app)` against a freshly started ingest (its start-up sweep included)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.service.runtime.connected.wait(), 60)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
            await check(http, app)


async def _until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_rows_from_before_encryption_are_sealed_at_start_and_keep_working(stack, ingest, uid):
    """A row as the code before encryption wrote it (plain text, no key id): readable at once, and
    sealed by the start-up sweep; afterwards nothing in the stores table is plain text."""
    sid, source = f"legacy-{uid}", f"https://legacy-{uid}.example/"
    secret, ck, cs = f"legacy-{uid}-secret0", f"ck_legacy_{uid}", f"cs_legacy_{uid}"
    await ingest.pool.execute(
        "INSERT INTO stores (store_id, source_url, webhook_secret, previous_secret, previous_secret_until,"
        " rest_url, consumer_key, consumer_secret) VALUES ($1, $2, $3, $4, now() + interval '1 hour', $5, $6, $7)",
        sid, source, secret, secret + "-old", f"https://legacy-{uid}.example", ck, cs)
    try:
        async def check(http, app):
            await _until(lambda: ingest.pool.fetchval("SELECT count(*) = 0 FROM stores WHERE secrets_key_id IS NULL"))
            row = await _row(ingest.pool, sid)
            assert _plain_text_in(row, secret, ck, cs) == []
            restored = await app.state.service.stores.get(sid)
            assert (restored.active_secrets(), restored.consumer_key, restored.consumer_secret) == (
                [secret, secret + "-old"], ck, cs)
            r = await deliver(http, HOOK, source=source, secret=secret, topic="order.created", body=order(uid))
            assert r.status_code == 200, r.text

        await _served(stack, _settings(stack), check)
    finally:
        await ingest.pool.execute("DELETE FROM stores WHERE store_id = $1", sid)


async def test_keys_rotate_new_first_old_still_decrypts_and_rows_are_re_encrypted(stack, ingest, uid):
    """AFTERCART_INGEST_SECRETS_KEYS="<new>,<old>": a row sealed under the old key is read, then
    re-encrypted under the new one by the sweep, after which the old key can go. (The new key here
    is the development key the other tests' instances share, so their rows stay readable.)"""
    old = Fernet.generate_key().decode()
    sid, source, secret = f"oldkey-{uid}", f"https://oldkey-{uid}.example/", f"oldkey-{uid}-secret0"
    old_box = SecretBox([old])
    await ingest.pool.execute(
        "INSERT INTO stores (store_id, source_url, webhook_secret, secrets_key_id) VALUES ($1, $2, $3, $4)",
        sid, source, old_box.seal(secret), key_id(old))
    try:
        async def check(http, app):
            await _until(lambda: ingest.pool.fetchval(
                "SELECT secrets_key_id = $2 FROM stores WHERE store_id = $1", sid, key_id(DEV_SECRETS_KEY)))
            token = (await _row(ingest.pool, sid))["webhook_secret"]
            assert SecretBox([DEV_SECRETS_KEY]).open(token) == secret
            with pytest.raises(Exception):
                old_box.open(token)  # no longer under the old key
            r = await deliver(http, HOOK, source=source, secret=secret, topic="order.created", body=order(uid))
            assert r.status_code == 200, r.text

        await _served(stack, _settings(stack, secrets_keys=f"{DEV_SECRETS_KEY},{old}"), check)
    finally:
        await ingest.pool.execute("DELETE FROM stores WHERE store_id = $1", sid)


async def test_a_store_under_a_key_no_longer_configured_is_an_error_not_a_silent_401(ingest, uid, capfd):
    gone = Fernet.generate_key().decode()
    sid, source, secret = f"lost-{uid}", f"https://lost-{uid}.example/", f"lost-{uid}-secret00"
    await ingest.pool.execute(
        "INSERT INTO stores (store_id, source_url, webhook_secret, secrets_key_id) VALUES ($1, $2, $3, $4)",
        sid, source, SecretBox([gone]).seal(secret), key_id(gone))
    try:
        r = await deliver(ingest.http, HOOK, source=source, secret=secret, topic="order.created", body=order(uid))
        assert r.status_code == 500 and r.json()["error"] == "internal_error"
        out, _ = capfd.readouterr()
        [line] = [ln for ln in out.splitlines() if "store_secrets_unreadable" in ln and sid in ln]
        assert secret not in out and "AFTERCART_INGEST_SECRETS_KEYS" in line
    finally:
        await ingest.pool.execute("DELETE FROM stores WHERE store_id = $1", sid)
