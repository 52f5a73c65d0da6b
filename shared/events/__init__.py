"""Event contracts: the envelope, and the data model of every event type (owned by its producer)."""
from shared.events.envelope import Envelope, Outgoing, derived_event_id, event_id, utcnow

__all__ = ["Envelope", "Outgoing", "derived_event_id", "event_id", "utcnow"]
