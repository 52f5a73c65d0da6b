"""Referrals on the in-memory unit of work: a member's code, a new customer referred with it
rewarded (both sides, once) at their first completed order, and refusals recorded with their
reason: self-referral (also through a guest key linked to the referrer), the same email, a
customer who already ordered, an unknown code or another store's."""
from __future__ import annotations

import pytest

from services.loyalty import handlers
from services.loyalty.domain.redemption import Refused
from services.loyalty.domain.referral import referral_code
from services.loyalty.domain.rules import EarningRules
from services.loyalty.referrals import refer
from tests.support.fakes.loyalty import memory_tx
from tests.unit.loyalty.order_events import customer_event, later, order_event

STORE = "sref"
REFERRER, NEW = "sref:c1", "sref:c2"


async def _apply(tx, *events) -> None:
    for e in events:
        await handlers.HANDLERS[e.type](e, tx)


def _order(n: int, key: str, email: str, type_: str = "order.paid", minutes: int = 0):
    return order_event(STORE, type_, n, time=later(minutes), extra={"customer": {"key": key, "email": email}})


@pytest.fixture
async def tx():
    tx = memory_tx(EarningRules(referrer_points=300, referred_points=200))
    await _apply(tx, _order(1, REFERRER, "ana@example.com"))
    await tx.referrals.code_for(REFERRER, STORE, referral_code(REFERRER))
    return tx


async def test_the_first_completed_order_rewards_both_once(tx):
    ref = await refer(tx, code=referral_code(REFERRER), referred_key=NEW, referred_email="bo@example.com")
    assert (ref.status, ref.reason) == ("pending", None)
    assert await refer(tx, code=referral_code(REFERRER), referred_key=NEW, referred_email=None) == ref  # once
    await _apply(tx, _order(10, NEW, "bo@example.com"))
    assert await tx.ledger.balance(REFERRER) == {"pending": 100, "available": 0}  # paid is not enough
    await _apply(tx, _order(10, NEW, "bo@example.com", "order.completed", 1),
                 _order(11, NEW, "bo@example.com"), _order(11, NEW, "bo@example.com", "order.completed", 2))
    assert await tx.ledger.balance(REFERRER) == {"pending": 100, "available": 300}
    assert await tx.ledger.balance(NEW) == {"pending": 0, "available": 400}  # 2 orders + 200
    [rewarded] = tx.outbox.of_type("referral.rewarded")
    assert rewarded.envelope.data == {"store_id": STORE, "referrer_key": REFERRER, "referred_key": NEW, "points": 300,
                                      "order_id": 10, "referred_points": 200}
    assert (await tx.referrals.get(NEW)).status == "rewarded"


@pytest.mark.parametrize("referred,email,reason", [
    (REFERRER, None, "self_referral"),
    (NEW, "ANA@example.com ", "same_email"),
])
async def test_refusals_are_recorded_with_their_reason(tx, referred, email, reason):
    ref = await refer(tx, code=referral_code(REFERRER), referred_key=referred, referred_email=email)
    assert (ref.status, ref.reason) == ("refused", reason)
    await _apply(tx, _order(10, NEW, "bo@example.com"), _order(10, NEW, "bo@example.com", "order.completed", 1))
    assert tx.outbox.of_type("referral.rewarded") == []


async def test_a_guest_key_linked_to_the_referrer_is_the_referrer(tx):
    guest = f"{STORE}:e{'a' * 64}"
    await _apply(tx, customer_event(STORE, "customer.linked", {"from_key": guest, "to_key": REFERRER}))
    ref = await refer(tx, code=referral_code(REFERRER), referred_key=guest, referred_email=None)
    assert ref.reason == "self_referral"


async def test_an_existing_customer_is_not_new(tx):
    await _apply(tx, _order(10, NEW, "bo@example.com"))
    ref = await refer(tx, code=referral_code(REFERRER), referred_key=NEW, referred_email="bo@example.com")
    assert ref.reason == "not_new"


async def test_the_same_email_found_at_the_order_refuses_the_reward(tx):
    await refer(tx, code=referral_code(REFERRER), referred_key=NEW, referred_email=None)
    await _apply(tx, _order(10, NEW, "ana@example.com"), _order(10, NEW, "ana@example.com", "order.completed", 1))
    assert ((await tx.referrals.get(NEW)).status, (await tx.referrals.get(NEW)).reason) == ("refused", "same_email")
    assert await tx.ledger.balance(REFERRER) == {"pending": 100, "available": 0}


async def test_unknown_codes_and_other_stores_are_refused(tx):
    for code, key, why in (("ref-nosuchcode", NEW, "unknown_code"), (referral_code(REFERRER), "other:c2", "other_store")):
        with pytest.raises(Refused) as refused:
            await refer(tx, code=code, referred_key=key, referred_email=None)
        assert refused.value.code == why
    assert tx.referrals.rows == {}
