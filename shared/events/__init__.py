"""Event contracts: the envelope, and the data model of every event type (owned by its producer)."""
from shared.events.envelope import Envelope, Event, Outgoing, derived_event_id, event_id, utcnow

__all__ = ["Envelope", "Event", "Outgoing", "derived_event_id", "event_id", "utcnow"]
