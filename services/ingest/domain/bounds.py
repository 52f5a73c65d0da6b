"""What ingest publishes must fit what Kafka carries and what every consumer stores; this module
holds the limits and checks every delivery's events before the 200 (pipeline/batch.py).

Sizes (`EventLimits`, from settings): one event's JSON at most `max_event_bytes` (1,000,000 by
default: aiokafka's max_request_size is 1,048,576 bytes and Kafka's message.max.bytes 1,048,588;
the rest is room for the key, headers and record framing); at most `max_line_items` lines in an
order (10,000: each line costs ≥ ≈ 98 bytes of every event of its order, so more could never fit —
refused before anything is derived); at most `max_events` events from one delivery (500; an order's
refunds and tracking numbers each make one). Over a limit: `TooLarge` (413).

Values (`ValueOutOfRange`, 400), each the narrowest any consumer stores:
- integers: 64-bit signed (PostgreSQL bigint) — checked here, on every event's data;
- money: |amount| < 10^12 with at most 6 decimals, i.e. ≤ 18 significant digits, so it fits a
  numeric(18,6) and an integer of micro-units — domain/money.py;
- dates: years 1970-2200 — domain/times.py (plugin-stored tracking dates outside it are dropped);
- text: control characters other than tab, newline and carriage return are stripped, not refused
  (domain/text.py); the delivery row keeps the body as received.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.ingest.domain.delivery import TooLarge, ValueOutOfRange
from shared.events.envelope import Outgoing

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class EventLimits:
    max_event_bytes: int = 1_000_000
    max_line_items: int = 10_000
    max_events: int = 500


def check_payload_size(payload: dict, limits: EventLimits) -> None:
    """Before deriving: the lists that multiply an order's events or their size (O(1))."""
    lines, refunds = payload.get("line_items"), payload.get("refunds")
    if isinstance(lines, list) and len(lines) > limits.max_line_items:
        raise TooLarge(f"{len(lines)} line items: at most {limits.max_line_items} fit in the events of one order"
                       f" (each carries every line, and Kafka takes events of at most {limits.max_event_bytes}"
                       " bytes)", code="too_many_line_items")
    if isinstance(refunds, list) and len(refunds) > limits.max_events:
        raise TooLarge(f"{len(refunds)} refunds: one delivery may derive at most {limits.max_events} events",
                       code="too_many_events")


def encode_events(events: list[Outgoing], limits: EventLimits) -> list[bytes]:
    """Each event's envelope as published, checked: integers within 64 bits, size within the limit.
    Raises ValueOutOfRange or TooLarge."""
    if len(events) > limits.max_events:
        raise TooLarge(f"{len(events)} events: one delivery may derive at most {limits.max_events}",
                       code="too_many_events")
    out = []
    for event in events:
        envelope = event.envelope
        try:
            # Beyond ±2^53 is rare enough that the cheap strict pass decides when to look closer.
            raw = envelope.to_bytes(strict_integers=True)
        except TypeError:
            check_integers(envelope.data)
            raw = envelope.to_bytes()
        if len(raw) > limits.max_event_bytes:
            raise TooLarge(f"{envelope.type} would be {len(raw)} bytes: Kafka takes events of at most"
                           f" {limits.max_event_bytes} bytes", code="event_too_large")
        out.append(raw)
    return out


def check_integers(data: object) -> None:
    """Raise ValueOutOfRange naming the first integer beyond 64-bit signed, e.g.
    "line_items[0].quantity". Iterative: JSON may nest deeper than Python recurses."""
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack += [(v, f"{path}.{k}" if path else str(k)) for k, v in reversed(value.items())]
        elif isinstance(value, list):
            stack += [(v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value)))]
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise ValueOutOfRange(f"{path}: {value} is outside the 64-bit integer range (±2^63)")
