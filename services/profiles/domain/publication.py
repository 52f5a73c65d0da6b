"""profile.updated as an event: the id derives from the cause event (a replay publishes the same
id), keyed by customer so profiles.v1's compaction keeps the latest profile per customer."""
from __future__ import annotations

from typing import Any

from shared.events.envelope import Event, Outgoing
from shared.events.follow_up import follow_up_event


def profile_event(cause: Event, profile: dict[str, Any]) -> Outgoing:
    return follow_up_event(service="profiles", cause_id=cause.id, event_type="profile.updated",
                           key=profile["customer_key"], time=cause.time, data=profile)
