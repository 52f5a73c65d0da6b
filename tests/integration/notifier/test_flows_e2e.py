"""Every flow end to end through the real parts: events published to real Kafka (the test's own
copies of orders.v1, customers.v1, loyalty.v1, reviews.v1), the whole notifier as bootstrap wires
it on its own schema (consumer loop, sender, gating, channels), and each email read back from the
real SMTP sink — recipient, subject, content and language. Loyalty and reviews events are published
here as their services will publish them. A delayed follow-up is cancelled by a later event."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.adapters.settings import PgSettings
from services.notifier.domain.store_settings import FlowSettings
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.unit.notifier.orders import order_data, refund, tracking

NBSP = "\u00a0"
CONSENT = {"_newsletter_optin": "yes"}


def _order(store: str, order_id: int, status: str, to: str, **extra) -> dict:
    return order_data(store, order_id, status, email=to, locale="de_DE", consent_meta=CONSENT, **extra)


def _by_template(mails: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in mails:
        out.setdefault(m["headers"]["X-Aftercart-Template"], []).append(m)
    return out


async def test_every_flow_arrives_with_its_recipient_subject_content_and_language(stack, uid):
    store, to, support = f"e{uid}", f"e2e-{uid}@example.com", f"support-{uid}@example.com"
    key = f"{store}:c1"
    pay_url = f"https://{store}.example/checkout/order-pay/4/?pay_for_order=true&key=wc_order_{uid}"
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_store(store, {
            "store_name": f"Kaffee {uid}", "support_email": f"help-{uid}@example.com",
            "returns_url": f"https://{store}.example/returns", "support_alert_address": support,
            "payment_instructions": f"IBAN DE02 1203 0000 0000 2020 51\nVerwendungszweck: {uid}",
            "consent_meta_key": "_newsletter_optin", "marketing_per_7_days": 100})
        # --- orders.v1: one customer's orders, in order on their key's partition
        await it.publish("order.placed", _order(store, 1, "processing", to))          # first order: welcome
        await it.publish("order.placed", _order(store, 2, "processing", to))          # then the thank-you
        await it.publish("order.on_hold", _order(store, 3, "on-hold", to))
        await it.publish("order.failed", _order(store, 4, "failed", to, payment_url=pay_url))
        await it.publish("order.cancelled", _order(store, 5, "cancelled", to))        # nothing was paid
        await it.publish("order.shipped", _order(store, 1, "completed", to, tracking=tracking("00340434")))
        await it.publish("order.shipped", _order(store, 1, "completed", to, tracking=tracking("00340435")), salt=2)
        await it.publish("order.completed", _order(store, 1, "completed", to))
        await it.publish("order.refunded", _order(store, 2, "processing", to, refund=refund(9, "20.00")))
        # The customer's record is built from these before loyalty and reviews (other topics) speak of them.
        await it.wait_for("SELECT orders_seen FROM customers WHERE customer_key = $1", key, expected=5)
        await it.wait_for("SELECT status FROM order_state WHERE store_id = $1 AND order_id = 1", store,
                          expected="completed")
        # --- loyalty.v1
        lk = {"store_id": store, "customer_key": key}
        await it.publish("points.pending", {**lk, "order_id": 1, "points": 1250, "bucket": "pending"})
        await it.publish("points.available", {**lk, "order_id": 1, "points": 1250, "bucket": "available"})
        await it.publish("points.reversed", {**lk, "order_id": 2, "points": 200, "bucket": "available"})
        await it.publish("tier.changed", {**lk, "from_tier": "Silber", "to_tier": "Gold"})
        await it.publish("coupon.issued", {**lk, "coupon_id": 7, "code": f"AC-{uid[:6].upper()}", "amount": "5.00",
                                           "currency": "EUR", "points_spent": 500, "minimum_amount": "25.00",
                                           "expires_at": "2026-06-30T12:00:00Z"})
        await it.publish("points.expiring", {**lk, "points": 1500, "expires_at": "2026-04-30T10:00:00Z"})
        # --- reviews.v1
        now = datetime.now(timezone.utc)
        ask = {**lk, "request_id": f"rq{uid}", "order_id": 1, "product_ids": [9], "due_at": now.isoformat(),
               "review_url": f"https://{store}.example/review/rq{uid}?sig=abc"}
        await it.publish("review.requested", ask)
        await it.publish("review.reminder_due", {**ask, "due_at": (now + timedelta(seconds=1)).isoformat()})
        await it.publish("review.submitted", {**lk, "request_id": f"rq{uid}", "product_id": 9, "rating": 5})
        await it.publish("review.help_requested", {**lk, "request_id": f"rq{uid}-2", "order_id": 1, "rating": 2})

        mails = _by_template(await it.mails(to, count=19))
        [alert] = await it.mails(support, count=1)

    assert sorted((t, len(ms)) for t, ms in mails.items()) == sorted([
        ("order_welcome", 1), ("order_thanks", 1), ("order_on_hold", 1), ("order_failed", 1),
        ("order_cancelled", 1), ("order_shipped", 2), ("order_completed", 1), ("order_refunded", 1),
        ("points_earned", 1), ("points_available", 1), ("points_reversed", 1), ("tier_changed", 1),
        ("coupon_issued", 1), ("points_expiring", 1), ("review_request", 1), ("review_reminder", 1),
        ("review_thanks", 1), ("review_help_ack", 1)])
    one = {t: ms[0] for t, ms in mails.items()}
    assert all(to in m["headers"]["To"] for ms in mails.values() for m in ms)
    assert all(m["headers"]["X-Aftercart-Store"] == store for ms in mails.values() for m in ms)

    welcome = one["order_welcome"]
    assert welcome["subject"] == f"Willkommen bei Kaffee {uid} – Ihre Bestellung #1"
    assert welcome["text"].startswith("Hallo Ana,") and f"erste Bestellung bei Kaffee {uid}" in welcome["text"]
    assert "Blue <Mug>" in welcome["text"] and f"help-{uid}@example.com" in welcome["text"]
    assert f"Rückgabebedingungen: https://{store}.example/returns" in welcome["text"]
    assert 'lang="de-DE"' in welcome["html"]
    assert one["order_thanks"]["subject"] == "Vielen Dank für Ihre Bestellung #2"
    hold = one["order_on_hold"]
    assert hold["subject"] == "Bestellung #3: Wir warten auf Ihre Zahlung"
    assert f"So bezahlen Sie:\nIBAN DE02 1203 0000 0000 2020 51\nVerwendungszweck: {uid}" in hold["text"]
    failed = one["order_failed"]
    assert failed["subject"] == "Zahlung für Ihre Bestellung #4 fehlgeschlagen" and pay_url in failed["text"]
    cancelled = one["order_cancelled"]
    assert cancelled["subject"] == "Ihre Bestellung #5 wurde storniert"
    assert "erstatt" not in cancelled["text"].lower()  # nothing was paid: no refund promised
    shipped = sorted(m["text"] for m in mails["order_shipped"])
    assert "00340434" in shipped[0] and "00340435" in shipped[1]
    assert one["order_completed"]["subject"] == "Ihre Bestellung #1 ist abgeschlossen"
    assert one["order_refunded"]["subject"] == f"Wir haben 20,00{NBSP}€ für Bestellung #2 erstattet"
    assert one["points_earned"]["subject"] == "Sie haben 1.250 Punkte gesammelt"
    assert one["points_available"]["subject"] == "1.250 Punkte sind einlösbar"
    assert one["points_reversed"]["subject"] == "200 Punkte wurden zurückgebucht"
    assert one["tier_changed"]["subject"] == "Sie haben die Stufe Gold erreicht"
    coupon = one["coupon_issued"]
    assert coupon["subject"] == f"Ihr Gutschein AC-{uid[:6].upper()}: 5,00{NBSP}€ Rabatt"
    assert f"Gültig ab einem Bestellwert von 25,00{NBSP}€. Einlösbar bis 30. Juni 2026." in coupon["text"]
    assert one["points_expiring"]["subject"] == "1.500 Punkte verfallen am 30. April 2026"
    request = one["review_request"]
    assert request["subject"] == "Wie gefällt Ihnen Ihre Bestellung #1?" and "(Blue <Mug>)" in request["text"]
    assert f"https://{store}.example/review/rq{uid}?sig=abc" in request["text"]
    assert one["review_reminder"]["subject"] == "Kurze Erinnerung: Ihre Bewertung zur Bestellung #1"
    assert one["review_thanks"]["subject"] == "Danke für Ihre Bewertung" and "★★★★★" in one["review_thanks"]["text"]
    assert one["review_help_ack"]["subject"] == "Wir kümmern uns: Ihre Anfrage zur Bestellung #1"
    # The store's support inbox is alerted, in the store's language (English by default).
    assert alert["subject"] == "Help requested: order #1 (2/5)" and support in alert["headers"]["To"]
    assert f"Customer: Ana, {to}" in alert["text"] and alert["headers"]["X-Aftercart-Template"] == "review_help_alert"


async def test_a_later_cancellation_cancels_the_pending_delayed_follow_up(stack, uid):
    store, to = f"x{uid}", f"x2e-{uid}@example.com"
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_flow(store, "order_completed", FlowSettings(delay_s=3600))
        paid = {"created": "2026-03-01T09:00:00Z", "paid": "2026-03-01T09:01:00Z"}
        done = await it.publish("order.completed", order_data(store, 1, "completed", email=to, dates=paid))
        await it.wait_for("SELECT status FROM messages WHERE cause_event_id = $1", done.id, expected="pending")
        due = await it.pool.fetchval("SELECT next_attempt_at FROM messages WHERE cause_event_id = $1", done.id)
        assert due == done.time + timedelta(hours=1)  # scheduled in the database, not in memory
        await it.publish("order.cancelled", order_data(store, 1, "cancelled", email=to, dates=paid))
        [mail] = await it.mails(to, count=1)
        await it.wait_for("SELECT status_reason FROM messages WHERE cause_event_id = $1", done.id,
                          expected="order is now cancelled")
        assert await it.pool.fetchval("SELECT status FROM messages WHERE cause_event_id = $1", done.id) == "cancelled"
    # English: the customer's locale is unknown and the store's is the default. A paid order's
    # cancellation says the money comes back.
    assert mail["subject"] == "Your order #1 was cancelled" and mail["headers"]["X-Aftercart-Template"] == \
        "order_cancelled"
    assert "You'll get your money back" in mail["text"]
