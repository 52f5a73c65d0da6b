"""loyalty.v1, reviews.v1 and customers.v1 events as the notifier's handlers receive them (parsed
with the registry's model, as the shared consumer loop does), and time-stamped order events."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for


def event(event_type: str, data: dict, *, salt: object = "", time: datetime | None = None) -> Event:
    envelope = Envelope(id=event_id(data.get("store_id", "s1"), event_type, repr(sorted(data.items())), salt),
                        source=f"/stores/{data.get('store_id', 's1')}", type=event_type,
                        subject=f"customer/{data.get('customer_key', data.get('key', '-'))}",
                        time=time or datetime.now(timezone.utc), data=data)
    return Event.parse(envelope, model_for(event_type, 1))


def at(event: Event, moment: datetime) -> Event:
    """The same event with another time (a later or earlier delivery of its news)."""
    return Event(id=event.id, type=event.type, source=event.source, subject=event.subject, time=moment,
                 version=event.version, data=event.data)
