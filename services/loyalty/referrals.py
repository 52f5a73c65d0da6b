"""Referrals: a new customer arrives with a member's code (the store tells loyalty, POST
/referrals); their first completed order rewards both sides with the store's points, once. A
referral that can't stand is recorded refused, with the reason (domain/referral.py), at the
start — and checked again when the reward is due (the order's email may be the referrer's)."""
from __future__ import annotations

from datetime import datetime

from services.loyalty.adapters.referrals import Referral
from services.loyalty.domain.ledger import AVAILABLE
from services.loyalty.domain.redemption import Refused
from services.loyalty.domain.referral import refusal
from services.loyalty.domain.rules import EarningRules
from shared.events.envelope import derived_event_id
from shared.events.follow_up import follow_up_event


async def refer(tx, *, code: str, referred_key: str, referred_email: str | None) -> Referral:
    owner = await tx.referrals.owner(code)
    if owner is None:
        raise Refused("unknown_code", "no member has this referral code")
    store_id = owner.split(":", 1)[0]
    if referred_key.split(":", 1)[0] != store_id:
        raise Refused("other_store", "the code belongs to another store's program")
    referrer, referred = await tx.links.canonical(owner), await tx.links.canonical(referred_key)
    existing = await tx.referrals.get(referred)
    if existing is not None:
        return existing  # once per referred customer (a repeated call answers the same)
    ref_member, new_member = await tx.members.get(referrer), await tx.members.get(referred)
    reason = refusal(referrer_key=referrer, referred_key=referred, referrer_email=ref_member.email if ref_member else None,
                     referred_email=referred_email or (new_member.email if new_member else None),
                     referred_has_orders=await tx.orders.has_award(referred, exclude_order=("", 0)))
    await tx.referrals.add(referred_key=referred, referrer_key=referrer, store_id=store_id,
                           status="refused" if reason else "pending", reason=reason)
    return await tx.referrals.get(referred)


async def reward_if_due(tx, *, customer_key: str, store_id: str, order_id: int, cause_id: str, time: datetime,
                        rules: EarningRules) -> bool:
    """At a completed order of `customer_key`: reward a pending referral of theirs, once."""
    ref = await tx.referrals.get(customer_key, lock=True)
    if ref is None or ref.status != "pending":
        return False
    ref_member, new_member = await tx.members.get(ref.referrer_key), await tx.members.get(customer_key)
    reason = refusal(referrer_key=ref.referrer_key, referred_key=customer_key,
                     referrer_email=ref_member.email if ref_member else None,
                     referred_email=new_member.email if new_member else None, referred_has_orders=False)
    if reason:
        await tx.referrals.settle(customer_key, "refused", reason=reason)
        return False
    for key, points, side in ((ref.referrer_key, rules.referrer_points, "referrer"),
                              (customer_key, rules.referred_points, "referred")):
        if points:
            await tx.ledger.append(entry_id=derived_event_id(cause_id, f"referral:{side}"), cause_event_id=cause_id,
                                   customer_key=key, store_id=store_id, order_id=None, bucket=AVAILABLE,
                                   points=points, reason="referral")
            await tx.members.touch(key, store_id, time)
    await tx.referrals.settle(customer_key, "rewarded", order_id=order_id)
    data = {"store_id": store_id, "referrer_key": ref.referrer_key, "referred_key": customer_key,
            "points": rules.referrer_points, "referred_points": rules.referred_points, "order_id": order_id}
    await tx.outbox.write([follow_up_event(service="loyalty", cause_id=cause_id, event_type="referral.rewarded",
                                           key=ref.referrer_key, time=time, data=data)])
    return True
