"""The cross-sell / upsell flow end to end through the real parts: the catalogue (catalog.v1) and
the customer's profile (profiles.v1) published to real Kafka, then a completed order whose time is
eight days back (the clock moved past the flow's seven-day delay): the real SMTP sink receives one
cross-sell email naming the right products — a cross-sell and a category pick, with price, link and
image — and never the product just bought, one already owned or one out of stock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.adapters.settings import PgSettings
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.unit.notifier.orders import order_data
from tests.unit.notifier.profile_events import product_data, profile_data

CONSENT = {"_newsletter_optin": "yes"}


async def test_completed_order_and_a_moved_clock_yield_the_right_cross_sell_email(stack, uid):
    store, to = f"x{uid}", f"xsell-{uid}@example.com"
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_store(store, {"consent_meta_key": "_newsletter_optin",
                                                    "marketing_per_7_days": 100, "cross_sell_max_products": 2})
        for p in (product_data(store, 9, "Blue Mug", cross=[25, 20], related=[21], categories=["Kitchen"]),
                  product_data(store, 10, "Tea", categories=["Tea"]),
                  product_data(store, 20, "Saucer", price="4.50"),
                  product_data(store, 21, "Big Mug", stock="outofstock"),
                  product_data(store, 23, "Kettle", price="49.00", categories=["Kitchen"]),
                  product_data(store, 25, "Owned Grinder")):
            await it.publish("product.upserted", p, key=f"{store}:p{p['product_id']}")
        await it.publish("profile.updated", profile_data(store, "c1", products=[25], affinity={"Kitchen": 1.0}))
        await it.wait_for("SELECT count(*) FROM catalogue WHERE store_id = $1", store, expected=6)
        await it.wait_for("SELECT count(*) FROM customer_profiles WHERE store_id = $1", store, expected=1)

        eight_days_ago = datetime.now(timezone.utc) - timedelta(days=8)
        await it.publish("order.completed", order_data(store, 1, "completed", email=to, consent_meta=CONSENT),
                         time=eight_days_ago)
        mails = {m["headers"]["X-Aftercart-Template"]: m for m in await it.mails(to, count=2)}

    mail = mails["cross_sell"]
    assert mail["subject"] == "Picked for you after your order #1"
    assert f"- Saucer (€4.50): https://{store}.example/p/20" in mail["text"]
    assert f"- Kettle (€49.00): https://{store}.example/p/23" in mail["text"]
    assert f'src="https://{store}.example/img/20.jpg"' in mail["html"]
    for never in ("Blue Mug", "Tea", "Big Mug", "Owned Grinder"):  # bought, bought, out of stock, owned
        assert never not in mail["text"] and never not in mail["html"], never
    assert "List-Unsubscribe" in mail["headers"]  # a marketing message
