"""Segmented follow-ups end to end (the test's own topics on real Kafka, its own PostgreSQL schema,
the real SMTP sink): a profile on profiles.v1 saying a customer reached their 5th order, moved into
"champion" and last ordered 91 days ago (past the win-back's 90-day delay) brings the loyal offer,
the champion thank-you and the win-back, in German, each once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.adapters.settings import PgSettings
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.unit.notifier.orders import order_data
from tests.unit.notifier.profile_events import profile_data

CONSENT = {"_newsletter_optin": "yes"}


async def test_profile_changes_bring_loyal_offer_champion_thanks_and_win_back(stack, uid):
    store, to = f"g{uid}", f"seg-{uid}@example.com"
    last = datetime.now(timezone.utc) - timedelta(days=91)
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_store(store, {"consent_meta_key": "_newsletter_optin", "marketing_per_7_days": 100,
                                                    "store_name": f"Laden {uid}", "loyal_offer_code": "TREU15",
                                                    "win_back_code": "ZURUECK10"})
        await it.publish("order.placed", order_data(store, 1, "processing", email=to, locale="de_DE",
                                                    consent_meta=CONSENT), time=last)
        await it.wait_for("SELECT count(*) FROM customers WHERE customer_key = $1", f"{store}:c1", expected=1)
        profile = profile_data(store, "c1", orders=5, segment="champion", last_order_at=last.isoformat())
        await it.publish("profile.updated", profile)
        await it.publish("profile.updated", profile, salt="again")  # the same news twice: nothing more
        mails = {m["headers"]["X-Aftercart-Template"]: m for m in await it.mails(to, count=4)}

    assert sorted(mails) == ["champion_thanks", "loyal_offer", "order_welcome", "win_back"]
    assert mails["loyal_offer"]["subject"] == f"Ihre 5. Bestellung bei Laden {uid}: danke!"
    assert "Code TREU15" in mails["loyal_offer"]["text"]
    assert mails["champion_thanks"]["subject"] == "Sie gehören zu unseren besten Kunden"
    assert mails["win_back"]["subject"] == f"Wir vermissen Sie bei Laden {uid}" and "ZURUECK10" in mails["win_back"]["text"]
    assert all("List-Unsubscribe" in m["headers"] for t, m in mails.items() if t != "order_welcome")
