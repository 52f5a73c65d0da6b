"""Events born in a service (loyalty, reviews, notifier) from another event: the id derives from
the cause's id and the new type (a replayed cause yields the same event), the data is checked
against its model in the registry, and the home topic comes from shared/topics.py."""
from __future__ import annotations

from datetime import datetime

from shared.events.envelope import Envelope, Outgoing, derived_event_id
from shared.events.registry import validate_data
from shared.events.registry import TOPIC_OF_TYPE


def follow_up_event(*, service: str, cause_id: str, event_type: str, key: str, time: datetime, data: dict,
               id_suffix: str = "") -> Outgoing:
    body = validate_data(event_type, 1, data).model_dump(mode="json", by_alias=True)
    env = Envelope(id=derived_event_id(cause_id + id_suffix, event_type), source=f"/services/{service}",
                   type=event_type, subject=f"customer/{key}", time=time, data=body)
    return Outgoing(topic=TOPIC_OF_TYPE[event_type], key=key, envelope=env)
