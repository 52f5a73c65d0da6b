"""Consent and suppression rules (pure): who may get marketing, and which addresses get nothing.

- Marketing needs consent: the store's consent plugin writes it into the order's or customer's meta
  (the store's `consent_meta_key` names the key; ingest carries consent-looking meta as
  `consent_meta`), or it is recorded through the API / the preferences page. The newest statement
  wins, except that meta never lifts an unsubscribe: a checkout checkbox a plugin keeps ticked must
  not re-subscribe someone who clicked "unsubscribe" (re-subscribing is the preferences page's or the
  API's).
- The suppression list holds address hashes (sha256 of the trimmed, lowercased address, per store),
  never addresses, so an erased customer's entry can stay. "unsubscribed" stops marketing only; a
  hard bounce, an invalid address and an erasure stop everything.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parseaddr

# What consent plugins write for "yes" and "no" (checkboxes: "yes"/"on"/"1"; some write booleans).
YES = frozenset({"yes", "y", "1", "true", "on", "checked", "subscribed", "accepted", "opt-in", "optin", "granted"})
NO = frozenset({"no", "n", "0", "false", "off", "unchecked", "unsubscribed", "declined", "opt-out", "optout",
                "denied", "withdrawn", ""})

UNSUBSCRIBED, HARD_BOUNCE, ERASED, INVALID_ADDRESS = "unsubscribed", "hard_bounce", "erased", "invalid_address"
REASONS = (UNSUBSCRIBED, HARD_BOUNCE, ERASED, INVALID_ADDRESS)
MARKETING_ONLY = frozenset({UNSUBSCRIBED})  # the customer still gets what they must (receipts, refunds)

# Where a consent statement came from.
META, API, UNSUBSCRIBE_LINK, PREFERENCES = "meta", "api", "unsubscribe", "preferences"


def address_hash(address: str) -> str:
    """The suppression list's key for an address: sha256 of it trimmed and lowercased (hex)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


# Permanent SMTP refusals that are about the mailbox itself (RFC 5321: 550 mailbox unavailable, 551
# not local, 553 mailbox name not allowed). Other 5xx (552 too big, 554 policy) say nothing of it.
HARD_BOUNCE_CODES = frozenset({550, 551, 553})


def is_hard_bounce(code: int | None, temporary: bool) -> bool:
    return not temporary and code in HARD_BOUNCE_CODES


def valid_address(address: str | None) -> bool:
    """An address a mail server can be asked to deliver to: one mailbox, local@domain.tld, no spaces
    or line breaks. (Deliverability is the server's to say; this catches what is plainly broken.)"""
    text = (address or "").strip()
    if not text or any(c.isspace() for c in text) or len(text) > 254:
        return False
    name, addr = parseaddr(text)
    if addr != text or addr.count("@") != 1:
        return False
    local, domain = addr.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".")


def meta_consent(meta: dict[str, str] | None, key: str | None) -> bool | None:
    """What the store's consent plugin says under `key`: True, False, or None (not said / not
    understood — an unknown value is no consent, but not a withdrawal either)."""
    if not key or not meta or key not in meta:
        return None
    value = str(meta[key]).strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    return None


@dataclass(frozen=True)
class ConsentRecord:
    """The customer's marketing consent as last stated (None: never), by whom and when, and where
    the customer is when they said so (their time zone, for quiet hours)."""
    marketing: bool | None = None
    source: str | None = None  # META | API | UNSUBSCRIBE_LINK | PREFERENCES
    changed_at: datetime | None = None
    timezone: str | None = None

    @property
    def consents(self) -> bool:
        return self.marketing is True


def apply_statement(current: ConsentRecord | None, marketing: bool, source: str,
                    at: datetime) -> ConsentRecord | None:
    """The record after a new statement, or None when it changes nothing (older than the record,
    the same answer, or meta trying to undo a "no" the customer said themselves)."""
    current = current or ConsentRecord()
    if current.marketing is not None and current.changed_at is not None:
        if at < current.changed_at or current.marketing == marketing:
            return None
        if source == META and marketing and current.source in (UNSUBSCRIBE_LINK, PREFERENCES, API):
            return None
    return replace(current, marketing=marketing, source=source, changed_at=at)


def blocks(reasons: set[str] | frozenset[str], *, marketing: bool) -> str | None:
    """The suppression reason that stops a message, if any (the strongest first)."""
    for reason in (ERASED, HARD_BOUNCE, INVALID_ADDRESS, UNSUBSCRIBED):
        if reason in reasons and (marketing or reason not in MARKETING_ONLY):
            return reason
    return None
