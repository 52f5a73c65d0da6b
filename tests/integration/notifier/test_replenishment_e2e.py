"""Replenishment reminders end to end through the real parts (the test's own topics on real Kafka,
its own PostgreSQL schema, the real SMTP sink): a paid order of a product with a usage period and
the customer's profile schedule reminders; a reminder whose day has come is emailed; a re-order
cancels the pending one before it goes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.adapters.settings import PgSettings
from services.notifier.replenishment import REORDERED
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.unit.notifier.orders import order_data
from tests.unit.notifier.profile_events import product_data, profile_data

CONSENT = {"_newsletter_optin": "yes"}
PENDING = "SELECT count(*) FROM messages WHERE flow = 'replenishment' AND store_id = $1 AND status = 'pending'"


def _paid(store: str, order_id: int, to: str, paid: datetime) -> dict:
    data = order_data(store, order_id, "processing", email=to, consent_meta=CONSENT,
                      dates={"created": paid.isoformat(), "paid": paid.isoformat()})
    data["line_items"] = [{"line_id": 1, "product_id": 9, "name": "Coffee Beans", "quantity": 1, "total": "18.90"}]
    return data


async def test_a_due_reminder_is_sent_and_a_re_order_cancels_the_pending_one(stack, uid):
    store, to = f"r{uid}", f"refill-{uid}@example.com"
    now = datetime.now(timezone.utc)
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_store(store, {"consent_meta_key": "_newsletter_optin",
                                                    "marketing_per_7_days": 100})
        await it.publish("product.upserted", product_data(store, 9, "Coffee Beans", price="18.90", usage_days=30),
                         key=f"{store}:p9")
        await it.publish("product.upserted", product_data(store, 11, "Oat Milk", price="2.49", usage_days=7),
                         key=f"{store}:p11")
        await it.wait_for("SELECT count(*) FROM catalogue WHERE store_id = $1", store, expected=2)
        await it.publish("order.paid", _paid(store, 1, to, now))  # beans: due in 30 days
        await it.wait_for(PENDING, store, expected=1)
        [first] = await it.pool.fetch("SELECT message_id, next_attempt_at FROM messages"
                                      " WHERE flow = 'replenishment' AND store_id = $1", store)
        assert abs(first["next_attempt_at"] - (now + timedelta(days=30))) < timedelta(seconds=1)
        # The profile: oat milk ran out an hour ago (its day has come), beans as the order said.
        await it.publish("profile.updated", profile_data(store, "c1", products=[9, 11], replenishment={
            "9": (now + timedelta(days=30)).isoformat(), "11": (now - timedelta(hours=1)).isoformat()}))
        await it.wait_for("SELECT count(*) FROM messages WHERE flow = 'replenishment' AND store_id = $1", store,
                          expected=2)
        await it.publish("order.paid", _paid(store, 2, to, now + timedelta(days=3)))  # beans re-ordered in time
        await it.wait_for("SELECT status_reason FROM messages WHERE message_id = $1", first["message_id"],
                          expected=REORDERED)
        mails = {m["headers"]["X-Aftercart-Template"]: m for m in await it.mails(to, count=3)}
        assert await it.pool.fetchval("SELECT status FROM messages WHERE message_id = $1",
                                      first["message_id"]) == "cancelled"
        renewed = await it.pool.fetchval(
            "SELECT next_attempt_at FROM messages WHERE flow = 'replenishment' AND store_id = $1"
            " AND status = 'pending'", store)
        assert abs(renewed - (now + timedelta(days=33))) < timedelta(seconds=1)  # timed from the re-order

    assert sorted(mails) == ["order_thanks", "order_welcome", "replenishment"]
    assert mails["replenishment"]["subject"] == "Running low on Oat Milk?"
    assert f"- Oat Milk (€2.49): https://{store}.example/p/11" in mails["replenishment"]["text"]
    assert "Coffee Beans" not in mails["replenishment"]["text"]
