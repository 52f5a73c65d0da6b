"""profiles.v1 and catalog.v1 into the notifier through real Kafka and PostgreSQL (the test's own
topics, its own schema): the latest profile is kept, a tombstone on the compacted topic is skipped
(never dead-lettered) and customer.erased removes the profile; products land in the catalogue."""
from __future__ import annotations

from services.notifier.adapters.catalogue import PgCatalogue
from services.notifier.adapters.profiles import PgProfiles
from shared.events.registry import dlq
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.support.spine import read_all
from tests.unit.notifier.profile_events import product_data, profile_data


async def test_profiles_and_catalogue_arrive_a_tombstone_is_skipped_and_erasure_removes(stack, uid):
    store = f"p{uid}"
    async with notifier_on_topics(stack, uid) as it:
        await it.publish("product.upserted", product_data(store, 5, "Grinder", cross=[6], categories=["Tools"]),
                         key=f"{store}:p5")
        await it.publish("profile.updated", profile_data(store, "c1", products=[5], orders=1))
        await it.publish("profile.updated", profile_data(store, "c1", products=[5, 6], orders=2), salt=2)
        await it.producer.send_and_wait(it.topics["profiles.v1"], None, key=f"{store}:c9".encode())  # tombstone
        await it.publish("profile.updated", profile_data(store, "c2", orders=3))
        await it.wait_for("SELECT count(*) FROM customer_profiles WHERE store_id = $1", store, expected=2)
        await it.wait_for("SELECT (profile->>'orders')::int FROM customer_profiles WHERE customer_key = $1",
                          f"{store}:c1", expected=2)
        profile = await PgProfiles(it.pool).get(f"{store}:c1")
        assert profile.products == [5, 6]
        [grinder] = (await PgCatalogue(it.pool).get_many(store, [5])).values()
        assert (grinder.name, grinder.cross_sell_ids, grinder.categories) == ("Grinder", (6,), ("Tools",))
        await it.publish("customer.erased", {"store_id": store, "key": f"{store}:c1", "customer_id": 1})
        await it.wait_for("SELECT count(*) FROM customer_profiles WHERE customer_key = $1", f"{store}:c1",
                          expected=0)
        await it.publish("profile.updated", profile_data(store, "c9", orders=1))  # the tombstone's key, after it
        await it.wait_for("SELECT count(*) FROM customer_profiles WHERE customer_key = $1", f"{store}:c9",
                          expected=1)
    dead = await read_all(stack.bootstrap_servers(), dlq("notifier"), expect=10**9, timeout=3)
    ours = [r for r in dead if dict(r.headers or []).get("x-original-topic") == it.topics["profiles.v1"].encode()]
    assert ours == []  # the tombstone was skipped, not dead-lettered
