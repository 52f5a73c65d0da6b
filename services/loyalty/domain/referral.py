"""Referrals: every member's code, and whether a referral may stand. Refused, with the reason
kept: self_referral (the same customer, or keys linked to one), same_email (the referred
customer's email is the referrer's), not_new (the referred customer already had an order)."""
from __future__ import annotations

import base64
import hashlib


def referral_code(customer_key: str) -> str:
    digest = hashlib.sha256(f"aftercart-referral|{customer_key}".encode()).digest()
    return "ref-" + base64.b32encode(digest).decode()[:10].lower()


def refusal(*, referrer_key: str, referred_key: str, referrer_email: str | None, referred_email: str | None,
            referred_has_orders: bool) -> str | None:
    """Why the referral can't stand, or None."""
    if referrer_key == referred_key:
        return "self_referral"
    if referrer_email and referred_email and referrer_email.strip().lower() == referred_email.strip().lower():
        return "same_email"
    if referred_has_orders:
        return "not_new"
    return None
