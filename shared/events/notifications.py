"""The `data` of every notifications.v1 event (producer: notifier): the record of what was said to
whom, by customer key only — never an address or a message body."""
from __future__ import annotations

from shared.events.orders import EventData


class MessageOutcome(EventData):
    """message.sent, message.failed (with `error`), message.suppressed (with `reason`)."""
    message_id: str
    customer_key: str
    channel: str
    template: str
    cause_event_id: str
    cause_type: str
    error: str | None = None
    reason: str | None = None
