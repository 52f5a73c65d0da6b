"""One contract for the store registry and its fake: what registering, changing and rotating mean
(domain/stores.py). MemoryStores runs it here, PgStores against PostgreSQL (secrets encrypted) in
tests/integration/ingest/test_secrets_at_rest.py. Observed through the interface only."""
from __future__ import annotations

import pytest

from services.ingest.domain.stores import MAX_SOURCE_URL, StoreExists
from tests.support.fakes.ingest import MemoryStores


async def check_stores_contract(stores, uid: str) -> None:
    sid, source = f"c-{uid}", f"https://C-{uid}.example"
    s1, s2, s3, s4 = (f"{n}-{uid}-secret-abcdefgh" for n in ("s1", "s2", "s3", "s4"))

    created = await stores.register(sid, source, s1, None, None, None, "UTC", None)
    assert (created.source_url, created.active_secrets()) == (f"https://c-{uid}.example/", [s1])
    for variant in (source, source + "/", f" https://c-{uid}.EXAMPLE/ "):
        assert (await stores.by_source(variant)).store_id == sid
    assert await stores.by_source("https://x.example/" + "a" * MAX_SOURCE_URL) is None
    assert await stores.by_source(f"https://nobody-{uid}.example/") is None

    # Registering the id again is refused and changes nothing, whatever the body (its own secret too).
    for secret in (s1, s2):
        with pytest.raises(StoreExists):
            await stores.register(sid, f"https://other-{uid}.example/", secret, "https://rest.example", "ck", "cs",
                                  "Europe/Paris", "fr_FR")
    assert await stores.get(sid) == created

    # update changes the other fields, never the secrets; a field not given stays.
    updated = await stores.update(sid, {"rest_url": "https://rest.example", "consumer_key": f"ck_{uid}",
                                        "consumer_secret": f"cs_{uid}", "timezone": "Europe/Paris", "locale": "fr_FR"})
    got = await stores.get(sid)
    assert got == updated
    assert (got.source_url, got.rest_url, got.consumer_key, got.consumer_secret, got.timezone, got.locale,
            got.active_secrets()) == (f"https://c-{uid}.example/", "https://rest.example", f"ck_{uid}", f"cs_{uid}",
                                      "Europe/Paris", "fr_FR", [s1])
    moved = await stores.update(sid, {"source_url": f" https://New-{uid}.example"})
    assert moved.source_url == f"https://new-{uid}.example/" and moved.timezone == "Europe/Paris"
    assert (await stores.by_source(f"https://new-{uid}.example/")).store_id == sid
    assert await stores.by_source(source) is None
    await stores.update(sid, {"source_url": source})
    with pytest.raises(ValueError):
        await stores.update(sid, {"webhook_secret": s2})
    assert await stores.update(f"nobody-{uid}", {"timezone": "UTC"}) is None

    # Rotation: the new one current, the one before it for the overlap.
    rotated = await stores.rotate_secret(sid, s2, 3600)
    assert rotated.active_secrets() == [s2, s1] and rotated.rest_url == "https://rest.example"
    assert (await stores.get(sid)).active_secrets() == [s2, s1]
    again = await stores.update(sid, {"locale": None})
    assert again.active_secrets() == [s2, s1] and again.locale is None

    # Overlap 0: only the new secret, nothing previous kept at all.
    now_only = await stores.rotate_secret(sid, s3, 0)
    assert now_only.active_secrets() == [s3] and now_only.previous_secret is None
    assert now_only.previous_secret_until is None
    # A later rotation keeps exactly the one before it: s1 and s2 are gone for good.
    last = await stores.rotate_secret(sid, s4, 60)
    assert last.active_secrets() == [s4, s3]
    assert {last.webhook_secret, last.previous_secret} == {s4, s3}
    assert (await stores.get(sid)).active_secrets() == [s4, s3]

    assert await stores.rotate_secret(f"nobody-{uid}", s1, 60) is None
    assert sid in {s.store_id for s in await stores.all()}
    # A source URL is one store's, at registration and update alike.
    with pytest.raises(Exception):
        await stores.register(f"d-{uid}", source, s1, None, None, None, "UTC", None)
    await stores.register(f"e-{uid}", f"https://e-{uid}.example/", s1, None, None, None, "UTC", None)
    with pytest.raises(Exception):
        await stores.update(f"e-{uid}", {"source_url": source})
    assert (await stores.get(f"e-{uid}")).source_url == f"https://e-{uid}.example/"

    # What a store trusts for its https REST API is kept with it, changed by update, kept by rotation.
    pin = "ab" * 32
    await stores.register(f"t-{uid}", f"https://t-{uid}.example/", s1, "https://t.example", "ck", "cs", "UTC", None,
                          rest_ca_bundle="PEM text", rest_cert_sha256=pin)
    got = await stores.get(f"t-{uid}")
    assert (got.rest_ca_bundle, got.rest_cert_sha256) == ("PEM text", pin)
    assert "PEM text" not in repr(got) and pin not in repr(got)
    await stores.update(f"t-{uid}", {"rest_ca_bundle": None})
    rotated = await stores.rotate_secret(f"t-{uid}", s2, 60)
    assert (rotated.rest_ca_bundle, rotated.rest_cert_sha256) == (None, pin)
    assert await stores.get(f"t-{uid}") == rotated


async def test_memory_stores_keep_the_contract(uid):
    await check_stores_contract(MemoryStores(), uid)


def test_a_store_never_shows_its_secrets_in_a_log_or_traceback():
    from tests.unit.ingest.deliveries import store

    s = store(webhook_secret="w-secret-visible?", previous_secret="p-secret-visible?", consumer_key="ck_visible?",
              consumer_secret="cs_visible?")
    assert "visible?" not in repr(s) and "visible?" not in str(s)
    assert "s1" in repr(s)
