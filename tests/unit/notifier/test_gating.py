"""Gating through the sending use case, all in memory on a clock the test moves: marketing only with
consent and never to an unsubscribed address (transactional still goes), a signed one-click
unsubscribe link and RFC 8058 headers on every marketing email, invalid and hard-bounced addresses
suppressed, quiet hours and the 7-day budget defer (never drop), a digest combines what falls due
within the window, an order that moved on cancels its message."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta, timezone

from prometheus_client import REGISTRY

from services.notifier.config import NotifierSettings
from services.notifier.domain.consent import API, HARD_BOUNCE, INVALID_ADDRESS, UNSUBSCRIBED, address_hash
from services.notifier.domain.delivery import Plan
from services.notifier.domain.links import LinkSigner, UnsubscribeTarget
from services.notifier.domain.messages import Draft
from services.notifier.gating import Gate
from services.notifier.preferences import note_meta_consent, set_marketing, unsubscribe
from services.notifier.sending import send_batch
from shared.testing import Clock, FakeMailer
from tests.support.fakes.notifier import memory_unit_of_work

TO, KEY, STORE = "ana@example.com", "s1:c1", "s1"
LINKS = LinkSigner("unit-test-link-secret-0123456789", max_age_s=86_400, base_url="https://n.example")


class World:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc), **store) -> None:
        self.clock = Clock(start)
        self.tx = memory_unit_of_work(now=self.clock.now)
        self.tx.settings.stores[STORE] = {"consent_meta_key": "_newsletter", **store}
        self.mailer = FakeMailer()
        self.settings = NotifierSettings(environment="development")
        self.gate = Gate(LINKS, lease_s=60)

    def transactions(self):
        @asynccontextmanager
        async def transaction():
            yield self.tx
        return transaction()

    async def record(self, mid: str, *, marketing: bool, to: str = TO, flow: str = "points_earned",
                     order_id: int | None = None, statuses: frozenset[str] | None = None, due_in_s: float = 0,
                     subject: str | None = None) -> None:
        draft = Draft(flow, to, subject or f"subject {mid}", f"text {mid}",
                      f"<html><body><p>html {mid}</p></body></html>")
        plan = Plan(flow=flow, store_id=STORE, marketing=marketing, order_id=order_id, order_statuses=statuses,
                    due_at=self.clock.now() + timedelta(seconds=due_in_s))
        assert await self.tx.messages.record_intent(message_id=mid, cause_event_id=f"e-{mid}", cause_type="x",
                                                    customer_key=KEY, draft=draft, plan=plan)

    async def consent(self) -> None:
        await self.tx.customers.saw_profile(store_id=STORE, key=KEY, email=TO, first_name="Ana", locale=None,
                                            country="DE")
        assert await note_meta_consent(self.tx, store_id=STORE, customer_key=KEY, meta={"_newsletter": "yes"},
                                       at=self.clock.now())

    async def send(self) -> int:
        return await send_batch(self.transactions, self.mailer, self.settings, now=self.clock.now,
                                decide=self.gate.decide)

    def row(self, mid: str):
        return self.tx.messages.rows[mid]

    def sent_to(self) -> list[str]:
        return [m["X-Aftercart-Message-Id"] for m in self.mailer.sent]


async def test_marketing_needs_consent_transactional_does_not():
    w = World()
    await w.record("t1", marketing=False, flow="order_thanks")
    await w.record("m1", marketing=True)
    await w.send()
    assert w.sent_to() == ["t1"]
    assert (w.row("m1").status, w.row("m1").status_reason) == ("suppressed", "no_consent")
    assert w.mailer.sent[0]["List-Unsubscribe"] is None  # transactional: no unsubscribe header


async def test_a_consenting_customer_gets_marketing_with_a_signed_one_click_link():
    w = World()
    await w.consent()
    await w.record("m1", marketing=True)
    await w.send()
    [mail] = w.mailer.sent
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://n.example/u/")
    target = LINKS.verify(url.rsplit("/", 1)[1])
    assert (target.store_id, target.customer_key, target.address_hash) == (STORE, KEY, address_hash(TO))
    assert url in mail.get_body(("plain",)).get_content()
    assert f'href="{url}"' in mail.get_body(("html",)).get_content()
    assert w.row("m1").status == "sent"
    # The stored body is what was rendered: the link is added per send.
    assert url not in w.row("m1").body_text


async def test_an_unsubscribed_customer_gets_transactional_but_no_marketing():
    w = World()
    await w.consent()
    await unsubscribe(w.tx, UnsubscribeTarget(STORE, KEY, address_hash(TO)), w.clock.now())
    await w.record("m1", marketing=True)
    await w.record("t1", marketing=False, flow="order_shipped")
    await w.send()
    assert w.sent_to() == ["t1"]
    assert (w.row("m1").status, w.row("m1").status_reason) == ("suppressed", UNSUBSCRIBED)
    assert (await w.tx.consent.get(KEY)).marketing is False
    # A later checkout with the consent box ticked doesn't undo it; the customer's own yes does.
    assert not await note_meta_consent(w.tx, store_id=STORE, customer_key=KEY, meta={"_newsletter": "yes"},
                                       at=w.clock.advance(days=1))
    prefs = await set_marketing(w.tx, store_id=STORE, customer_key=KEY, marketing=True, source=API,
                                at=w.clock.now())
    assert prefs.marketing is True and not prefs.unsubscribed
    await w.record("m2", marketing=True)
    await w.send()
    assert w.sent_to() == ["t1", "m2"]


async def test_an_invalid_address_is_suppressed_with_its_reason():
    w = World()
    await w.record("t1", marketing=False, flow="order_thanks", to="ana@@example")
    await w.send()
    assert w.mailer.sent == []
    assert (w.row("t1").status, w.row("t1").status_reason) == ("suppressed", INVALID_ADDRESS)
    assert await w.tx.suppressions.reasons(STORE, address_hash("ana@@example")) == {INVALID_ADDRESS}


async def test_a_hard_bounce_suppresses_the_address_for_everything():
    w = World()
    before = REGISTRY.get_sample_value("notifier_suppressions_added_total", {"reason": HARD_BOUNCE}) or 0.0
    await w.record("t1", marketing=False, flow="order_thanks")
    w.mailer.refuse(550)
    await w.send()
    assert w.row("t1").status == "failed"
    assert REGISTRY.get_sample_value("notifier_suppressions_added_total", {"reason": HARD_BOUNCE}) == before + 1
    assert await w.tx.suppressions.reasons(STORE, address_hash(TO)) == {HARD_BOUNCE}
    await w.record("t2", marketing=False, flow="order_shipped")
    await w.send()
    assert w.mailer.sent == [] and (w.row("t2").status, w.row("t2").status_reason) == ("suppressed", HARD_BOUNCE)


async def test_a_policy_refusal_is_not_a_bounce():
    w = World()
    await w.record("t1", marketing=False, flow="order_thanks")
    w.mailer.refuse(554)
    await w.send()
    assert w.row("t1").status == "failed" and await w.tx.suppressions.reasons(STORE, address_hash(TO)) == set()


async def test_quiet_hours_defer_marketing_to_the_customers_morning_and_then_it_goes():
    # 22:30 UTC = 23:30 in Germany (the customer's country): quiet until 08:00 there = 07:00 UTC.
    w = World(datetime(2026, 3, 2, 22, 30, tzinfo=timezone.utc), quiet_hours_start="21:00", quiet_hours_end="08:00")
    await w.consent()
    await w.record("m1", marketing=True)
    await w.record("t1", marketing=False, flow="order_shipped")
    await w.send()
    assert w.sent_to() == ["t1"]  # transactional never waits
    row = w.row("m1")
    assert (row.status, row.status_reason, row.next_attempt_at) == (
        "pending", "quiet_hours", datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc))
    w.clock.set(datetime(2026, 3, 3, 6, 59, tzinfo=timezone.utc))
    await w.send()
    assert w.sent_to() == ["t1"]
    w.clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc))
    await w.send()
    assert w.sent_to() == ["t1", "m1"] and w.row("m1").status == "sent"


async def test_the_budget_defers_the_third_marketing_message_of_a_week():
    w = World(marketing_per_7_days=2)
    await w.consent()
    for n, day in ((1, 0), (2, 3)):
        w.clock.set(datetime(2026, 3, 2 + day, 10, 0, tzinfo=timezone.utc))
        await w.record(f"m{n}", marketing=True, flow="points_earned" if n == 1 else "tier_changed")
        await w.send()
    w.clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=timezone.utc))
    await w.record("m3", marketing=True, flow="review_request")  # another flow: the same budget
    await w.record("t1", marketing=False, flow="order_shipped")
    await w.send()
    assert w.sent_to() == ["m1", "m2", "t1"]
    row = w.row("m3")
    # The first contact (2 March 10:00) leaves the 7-day window on 9 March 10:00.
    assert (row.status, row.status_reason, row.next_attempt_at) == (
        "pending", "budget", datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc))
    w.clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc))
    await w.send()
    assert w.sent_to() == ["m1", "m2", "t1", "m3"]


async def test_a_digest_combines_what_falls_due_within_the_window():
    w = World(digest_window_s=300)
    await w.consent()
    await w.record("a", marketing=False, flow="order_shipped", subject="Your order #1 has shipped")
    await w.record("b", marketing=True, flow="points_earned", due_in_s=60)
    await w.record("c", marketing=True, flow="tier_changed", due_in_s=200)
    await w.record("later", marketing=True, flow="review_request", due_in_s=3600)
    await w.send()
    [mail] = w.mailer.sent
    assert mail["Subject"] == "Your order #1 has shipped (+2 more)" and mail["Message-ID"] == "<a@aftercart>"
    text = mail.get_body(("plain",)).get_content()
    assert text.index("text a") < text.index("text b") < text.index("text c")
    html = mail.get_body(("html",)).get_content()
    assert html.count("<body") == 1 and all(f"html {m}" in html for m in "abc")
    assert mail["List-Unsubscribe"] is not None  # it carries marketing parts
    assert [w.row(m).status for m in ("a", "b", "c", "later")] == ["sent", "sent", "sent", "pending"]
    w.clock.advance(seconds=3600)
    await w.send()
    assert len(w.mailer.sent) == 2 and w.mailer.sent[1]["Subject"] == "subject later"


async def test_a_message_about_an_order_that_moved_on_is_cancelled():
    w = World()
    await w.tx.orders.track(store_id=STORE, order_id=7, customer_key=KEY, status="cancelled",
                            event_time=w.clock.now(), data=None)
    await w.record("r1", marketing=True, flow="review_request", order_id=7,
                   statuses=frozenset({"completed"}))
    await w.send()
    assert w.mailer.sent == []
    assert (w.row("r1").status, w.row("r1").status_reason) == ("cancelled", "order is now cancelled")


async def test_store_settings_take_quiet_hours_as_clock_times():
    w = World(quiet_hours_start="21:00", quiet_hours_end="08:00")
    store = await w.tx.settings.store(STORE)
    assert (store.quiet_hours_start, store.quiet_hours_end) == (time(21, 0), time(8, 0))


async def test_a_guests_consent_follows_them_when_linked_to_their_account():
    from services.notifier.preferences import merge_consent

    w = World()
    guest = "s1:e" + address_hash(TO)
    await w.tx.customers.saw_profile(store_id=STORE, key=guest, email=TO, first_name="Ana", locale=None,
                                     country=None)
    assert await note_meta_consent(w.tx, store_id=STORE, customer_key=guest, meta={"_newsletter": "yes"},
                                   at=w.clock.now())
    await merge_consent(w.tx, store_id=STORE, from_key=guest, to_key=KEY)
    await w.tx.customers.link(store_id=STORE, from_key=guest, to_key=KEY)
    assert (await w.tx.consent.get(KEY)).consents and await w.tx.consent.get(guest) is None
    await w.record("m1", marketing=True)
    await w.send()
    assert w.sent_to() == ["m1"]


async def test_a_store_that_allows_no_marketing_suppresses_it_rather_than_waiting_forever():
    w = World(marketing_per_7_days=0)
    await w.consent()
    await w.record("m1", marketing=True)
    await w.record("t1", marketing=False, flow="order_shipped")
    await w.send()
    assert w.sent_to() == ["t1"]
    assert (w.row("m1").status, w.row("m1").status_reason) == ("suppressed", "marketing_off")


async def test_a_budget_another_sender_is_deciding_defers_a_moment_instead_of_waiting():
    w = World()
    await w.consent()
    w.tx.consent.held_elsewhere.add(KEY)
    await w.record("m1", marketing=True)
    await w.send()
    row = w.row("m1")
    assert (row.status, row.status_reason, row.next_attempt_at) == (
        "pending", "budget_busy", w.clock.now() + timedelta(seconds=2))
    w.tx.consent.held_elsewhere.clear()
    w.clock.advance(seconds=2)
    await w.send()
    assert w.sent_to() == ["m1"]
