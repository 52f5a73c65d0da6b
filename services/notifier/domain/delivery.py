"""What the notifier keeps about a message once decided, and the retry rule of its delivery:
plain values the message repositories return and the sending use case acts on (no I/O)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoredMessage:
    """A recorded message as the sender claims it (the send intent and its progress so far)."""
    message_id: str
    cause_event_id: str
    cause_type: str
    customer_key: str
    channel: str
    template: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    status: str  # pending | sent | failed
    attempts: int
    # The cause event's time (migration 005): where the send latency metric starts. None for rows
    # recorded before it existed.
    cause_time: datetime | None = None
    # The flow it belongs to and what gating needs (migration 002): marketing or not, and the
    # order (if any) with the statuses it must still be in at send time (flows.still_fits).
    flow: str = ""
    marketing: bool = False
    order_id: int | None = None
    order_statuses: list[str] | None = None
    locale: str = "en"
    # Set by gating on what it hands to the channel, never stored: extra headers (a marketing
    # message's List-Unsubscribe) and, for a digest, the other messages this one email carries.
    headers: dict[str, str] | None = None
    digest_parts: tuple[str, ...] = ()

    @property
    def store_id(self) -> str:
        return self.customer_key.split(":", 1)[0]


@dataclass(frozen=True)
class Plan:
    """How a message is to go when recorded: its flow, channel, due time (None = now), and the
    order statuses it must still fit at send time (None = any)."""
    flow: str = ""
    store_id: str = ""
    channel: str = "email"
    marketing: bool = False
    order_id: int | None = None
    order_statuses: frozenset[str] | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A message as the queue API shows it: where it stands, never the address or the body."""
    message_id: str
    flow: str
    store_id: str
    customer_key: str
    order_id: int | None
    channel: str
    marketing: bool
    status: str
    status_reason: str | None
    attempts: int
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class MessageSummary:
    """A message as the history shows it: what, why, how far — never the address or the body."""
    message_id: str
    cause_event_id: str
    cause_type: str
    template: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Send:
    """Gating's answer (services/notifier/gating.py `decide`): hand it to its channel now — as
    `message` when gating changed it (unsubscribe footer and headers, a digest), else as claimed."""
    message: StoredMessage | None = None


@dataclass(frozen=True)
class Defer:
    """Not now (quiet hours, budget, digest window): due again at `until`; never dropped."""
    until: datetime
    reason: str


@dataclass(frozen=True)
class Suppress:
    """Never to this recipient (unsubscribed, bounced, erased, invalid address): final."""
    reason: str


@dataclass(frozen=True)
class Cancel:
    """No longer right (the order's state moved on): final."""
    reason: str


Decision = Send | Defer | Suppress | Cancel
SEND = Send()


def retry_delay(attempts: int, *, temporary: bool, max_attempts: int, base_s: float,
                max_s: float) -> float | None:
    """Seconds until the next try after `attempts` failed ones (exponential, capped), or None when
    the message has failed for good: a permanent refusal, or the last attempt allowed."""
    if not temporary or attempts >= max_attempts:
        return None
    return min(base_s * 2 ** (attempts - 1), max_s)
