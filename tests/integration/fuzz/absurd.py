"""Absurd values for WooCommerce webhook bodies, as JSON text (so numbers beyond 64 bits, NaN and
overflowing exponents can be written as a careless store or an attacker would), the fields of real
payloads to put them in, and hypothesis strategies that combine both.

KNOWN_BUGS names the values that still make ingest fail, each with its reproducer, while the
owner of that code fixes it: their cases in test_webhook_bodies are xfail and the random
strategies leave them out, so everything else keeps running meanwhile. Once an entry goes, the
value is back everywhere.
"""
from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import strategies as st

from tests.support.woo import payload, wc_time


# label → the reproducer of the bug it still finds (in code this suite doesn't own). Empty: the
# last ones (a number of 2^64 or more where ingest reads an integer: a TypeError in the envelope's
# serialization, answered 500) were fixed by issue 10's bounded values.
KNOWN_BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Absurd:
    label: str
    json: str  # the value as it appears in the body

    @property
    def param(self):
        known = KNOWN_BUGS.get(self.label)
        return pytest.param(self, id=self.label,
                            marks=[pytest.mark.xfail(strict=False, reason=known)] if known else [])


def _s(text: str) -> str:
    return json.dumps(text)


def _deep(n: int) -> str:
    return "[" * n + "]" * n


VALUES: list[Absurd] = [
    # numbers: beyond 64 bits, at its edges, negative, fractional where an integer is meant
    Absurd("int-10^30", str(10**30)),
    Absurd("int-2^63+7", str(2**63 + 7)),
    Absurd("int-2^63", str(2**63)),
    Absurd("int--2^63-1", str(-(2**63) - 1)),
    Absurd("int-2^64", str(2**64)),
    Absurd("int-negative", "-1"),
    Absurd("int-zero", "0"),
    Absurd("float-1e20", "1e20"),
    Absurd("float-where-int", "1.5"),
    Absurd("float-minus-zero", "-0.0"),
    Absurd("float-underflow", "1e-400"),
    Absurd("float-overflow", "1e309"),
    Absurd("NaN-literal", "NaN"),
    Absurd("Infinity-literal", "-Infinity"),
    # numbers as text, the way WooCommerce sends money ("12.50"), but absurd
    Absurd("text-NaN", _s("NaN")),
    Absurd("text-Infinity", _s("Infinity")),
    Absurd("text-1e999", _s("1e999")),
    Absurd("text-10^30", _s(str(10**30))),
    Absurd("text-money-negative", _s("-99999999999999999999.99")),
    Absurd("text-many-decimals", _s("0." + "0" * 60 + "1")),
    Absurd("text-hex", _s("0x1F")),
    Absurd("text-padded", _s(" 12 ")),
    Absurd("text-arabic-digits", _s("١٢٣")),
    Absurd("text-empty", _s("")),
    # text storage or a mail header can't take, or that hides what it is
    Absurd("text-NUL", _s("Ann\x00e")),
    Absurd("text-control", _s("\x01\x1b[31mred\x7f\r\nBcc: x@example.com")),
    Absurd("text-lone-surrogate", '"\\ud800"'),
    Absurd("text-bidi-zero-width", _s("\u202egnp.exe\u200b\ufeff")),
    Absurd("text-long", _s("x" * 20_000)),  # long, but its events stay far below the broker's limit
    Absurd("text-email-ish", _s("a@b@c..@\u00e9")),
    # dates outside any sane window, or not dates
    Absurd("date-year-9999", _s("9999-12-31T23:59:59")),
    Absurd("date-year-0", _s("0000-01-01T00:00:00")),
    Absurd("date-year-10000", _s("10000-01-01T00:00:00")),
    Absurd("date-impossible", _s("2026-13-45T25:61:61")),
    Absurd("date-before-epoch", _s("1901-12-13T20:45:52")),
    Absurd("date-offset", _s("2026-01-01T00:00:00+14:00")),
    # wrong types and shapes
    Absurd("type-true", "true"),
    Absurd("type-null", "null"),
    Absurd("type-list", "[1, \"a\", null]"),
    Absurd("type-object", "{\"id\": {\"id\": {}}}"),
    Absurd("nesting-200", _deep(200)),
    Absurd("nesting-5000", _deep(5000)),
    Absurd("list-10000", "[" + ",".join(["0"] * 10_000) + "]"),
]


def live_values() -> list[Absurd]:
    return [v for v in VALUES if v.label not in KNOWN_BUGS]


# --- real payloads and the fields to put absurd values in ---------------------------------------

Path = tuple  # keys and list indexes from the payload's root

# Fields each derivation reads (and so carries into events), then whole sub-objects.
FIELDS: dict[str, list[Path]] = {
    "order": [("id",), ("number",), ("status",), ("currency",), ("customer_id",), ("date_created_gmt",),
              ("date_modified_gmt",), ("date_paid_gmt",), ("date_completed_gmt",), ("total",), ("discount_total",),
              ("shipping_total",), ("total_tax",), ("billing", "email"), ("billing", "first_name"),
              ("billing", "country"), ("line_items", 0, "id"), ("line_items", 0, "product_id"),
              ("line_items", 0, "quantity"), ("line_items", 0, "total"), ("line_items", 0, "price"),
              ("line_items", 0, "name"), ("line_items",), ("billing",), ("refunds",), ("meta_data",)],
    "customer": [("id",), ("email",), ("first_name",), ("date_modified_gmt",), ("date_created_gmt",),
                 ("billing",)],
    "product": [("id",), ("name",), ("price",), ("regular_price",), ("date_modified_gmt",), ("status",),
                ("categories", 0, "id")],
}
TOPICS = {"order": ["order.created", "order.updated", "order.deleted", "order.restored"],
          "customer": ["customer.created", "customer.updated", "customer.deleted"],
          "product": ["product.created", "product.updated", "product.deleted"]}
_FILES = {"order": "order.v3.docs.json", "customer": "customer.v3.docs.json", "product": "product.v3.docs.json"}
_SENTINEL = "\x00absurd-value-{}\x00"


def resource(kind: str, uid: str, resource_id: int | None = None) -> dict:
    """A real payload of `kind`, made fresh: its own id, a new modification time, its own email."""
    body = copy.deepcopy(payload(_FILES[kind]))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    body.update(id=resource_id or random.randint(10_000, 2_000_000_000),
                date_created_gmt=wc_time(now - timedelta(minutes=5)), date_modified_gmt=wc_time(now))
    if kind == "order":
        body["billing"]["email"] = f"fuzz-{uid}@example.com"
        body["line_items"] = body["line_items"] or [{"id": 1, "product_id": 1, "quantity": 1}]
    if kind == "customer":
        body["email"] = f"fuzz-{uid}@example.com"
    return body


def render(body: dict, placed: dict[Path, Absurd]) -> bytes:
    """`body` as JSON text with each absurd value written at its path, verbatim."""
    body = copy.deepcopy(body)
    for n, path in enumerate(placed):
        _set(body, path, _SENTINEL.format(n))
    text = json.dumps(body)
    for n, value in enumerate(placed.values()):
        text = text.replace(json.dumps(_SENTINEL.format(n)), value.json)
    return text.encode()


def _set(body, path: Path, value) -> None:
    """body[path] = value, making the containers on the way what the path says they are."""
    target = body
    for key, nxt in zip(path, path[1:]):
        kind = list if isinstance(nxt, int) else dict
        if isinstance(target, list):
            key = min(key, len(target))
            if key == len(target):
                target.append(kind())
        if not isinstance(target[key] if isinstance(target, list) else target.get(key), kind):
            target[key] = kind()
        target = target[key]
    last = path[-1]
    if isinstance(target, list):
        last = min(last, len(target))
        target.append(value) if last == len(target) else target.__setitem__(last, value)
    else:
        target[last] = value


# --- hypothesis strategies --------------------------------------------------------------------

def _paths(kind: str) -> list[Path]:
    """Every leaf and sub-object of the real payload, plus the fields above (some the example lacks)."""
    found: list[Path] = []

    def walk(v, path):
        if path:
            found.append(path)
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, path + (k,))
        elif isinstance(v, list) and v:
            walk(v[0], path + (0,))

    walk(payload(_FILES[kind]), ())
    return sorted(set(found) | set(FIELDS[kind]), key=repr)


PATHS = {kind: _paths(kind) for kind in FIELDS}

# Arbitrary JSON values too: integers of any size, floats, any text (control characters included).
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20).map(lambda v: Absurd("generated", json.dumps(v)))


@st.composite
def deliveries(draw, uid: str) -> tuple[str, bytes]:
    """(topic, raw body): a real payload with one to four fields replaced by absurd values."""
    kind = draw(st.sampled_from(sorted(FIELDS)))
    topic = draw(st.sampled_from(TOPICS[kind]))
    values = st.sampled_from(live_values()) | _ANY
    placed = draw(st.dictionaries(st.sampled_from(PATHS[kind]), values, min_size=1, max_size=4))
    return topic, render(resource(kind, uid, draw(st.integers(10_000, 2**31 - 1))), placed)
