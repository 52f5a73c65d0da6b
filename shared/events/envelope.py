"""The CloudEvents-shaped envelope every Aftercart event travels in.

On Kafka we use CloudEvents *structured* mode everywhere: the record value is the whole
envelope as JSON (content type application/cloudevents+json), the record key is the
partition key chosen by the producer (see shared/topics.py). Structured mode keeps a
record self-describing in a DLQ, in a replay and for faust agents.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

CONTENT_TYPE = "application/cloudevents+json"
# Namespace for deterministic event ids (UUIDv5). Never change it: ids would change with it.
EVENT_NAMESPACE = uuid.UUID("6f1c1b8e-4c1a-5a43-9e0b-3f2a8f7d5c11")


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    version: int = Field(default=1, ge=1)
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            return v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc)

    @property
    def dataschema(self) -> str:
        return f"aftercart:{self.type}:v{self.version}"

    def to_bytes(self, *, strict_integers: bool = False) -> bytes:
        """`strict_integers`: raise TypeError for an integer beyond ±2^53 (orjson's own check, free:
        ingest then looks for integers no consumer could store)."""
        # orjson straight from the fields: the same JSON as model_dump(mode="json") (UTC times
        # with "Z", Decimal as a string), several times cheaper on ingest's hot path.
        option = orjson.OPT_UTC_Z | orjson.OPT_STRICT_INTEGER if strict_integers else orjson.OPT_UTC_Z
        return orjson.dumps({
            "specversion": self.specversion, "id": self.id, "source": self.source, "type": self.type,
            "subject": self.subject, "time": self.time, "version": self.version,
            "datacontenttype": self.datacontenttype, "data": self.data, "dataschema": self.dataschema,
        }, default=_json_default, option=option)

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Envelope":
        return cls.model_validate(orjson.loads(raw))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def event_id(*parts: object) -> str:
    """Deterministic id: the same cause always yields the same event id."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "|".join("" if p is None else str(p) for p in parts)))


def derived_event_id(cause_id: str, event_type: str) -> str:
    """Id for an event born in a service from another event (its cause)."""
    return event_id(cause_id, event_type)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Outgoing(BaseModel):
    """An event ready to publish: its home topic, its partition key and the envelope."""

    model_config = ConfigDict(frozen=True)

    topic: str
    key: str
    envelope: Envelope


D = TypeVar("D", bound=BaseModel)


@dataclass(frozen=True)
class Event(Generic[D]):
    """An event as a consumer's handler receives it: the envelope's fields, and `data` parsed with
    the producer's model from the registry (so `event.data.customer.key`, never a dict lookup)."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    version: int
    data: D

    @classmethod
    def parse(cls, envelope: Envelope, model: type[D]) -> "Event[D]":
        """Raises pydantic.ValidationError when the data doesn't fit the model (a poison message)."""
        return cls(id=envelope.id, type=envelope.type, source=envelope.source, subject=envelope.subject,
                   time=envelope.time, version=envelope.version, data=model.model_validate(envelope.data))
