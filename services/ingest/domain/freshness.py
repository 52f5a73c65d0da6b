"""Freshness: is a delivery newer than the resource's snapshot, the same state again, or older?
(`stale_or_duplicate` is the guard every derivation runs once it has read the payload.)

Every snapshot (orders, customers, products) carries the same two fields for this:
- `modified`: the canonical `date_modified_gmt` of the state it describes;
- `hashes`: content hashes seen *at that* `modified` (usually one).
A payload older than `modified` is stale. One with the same `modified` and a hash already seen is
a duplicate. The same `modified` with new content is treated as newer (WooCommerce's clock has
one-second resolution and some plugins write meta without touching it) — remembering every hash
seen at that second stops two such states from flip-flopping when both are redelivered.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel

from services.ingest.domain.derivation import DUPLICATE, STALE, Derivation, nothing

NEWER = "newer"
# Fields that change without the resource changing: links, and WooCommerce's per-request
# shuffled related products. Left out of content hashes so they never look like news.
VOLATILE = frozenset({"_links", "related_ids"})
_MAX_HASHES = 8  # hashes kept per `modified`; more same-second variants than this is pathological


def content_hash(payload: dict[str, Any], volatile: frozenset[str] = VOLATILE) -> str:
    body = {k: v for k, v in payload.items() if k not in volatile}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def carried_hash(data: BaseModel, exclude: set[str] | None = None) -> str:
    """Hash of what an event carries: a change elsewhere in the payload is not news to consumers."""
    body = data.model_dump(mode="json", by_alias=True, exclude=exclude)
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def freshness(previous: dict | None, modified: str | None, digest: str) -> str:
    """NEWER, DUPLICATE or STALE for a payload (its canonical modified time and content hash)."""
    if not previous:
        return NEWER
    seen_modified = previous.get("modified")
    seen = previous.get("hashes") or []
    if modified is not None and seen_modified is not None:
        new, old = datetime.fromisoformat(modified), datetime.fromisoformat(seen_modified)
        if new < old:
            return STALE
        if new > old:
            return NEWER
    # Same second — or a side without date_modified_gmt, which can't be ordered: judge by content.
    return DUPLICATE if digest in seen else NEWER


def stale_or_duplicate(previous: dict | None, modified: str | None, digest: str) -> Derivation | None:
    """What a derivation answers a payload that is not news — nothing(STALE) or nothing(DUPLICATE);
    None when it is newer than the snapshot and must be derived."""
    verdict = freshness(previous, modified, digest)
    return None if verdict == NEWER else nothing(verdict)


def advance(previous: dict | None, modified: str | None, digest: str) -> dict[str, Any]:
    """The freshness fields of the next snapshot."""
    prev = previous or {}
    if modified is None:
        modified = prev.get("modified")
    hashes = list(prev.get("hashes") or []) if modified == prev.get("modified") else []
    if digest not in hashes:
        hashes.append(digest)
    return {"modified": modified, "hashes": hashes[-_MAX_HASHES:]}
