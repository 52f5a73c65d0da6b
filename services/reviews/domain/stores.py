"""How reviews reaches a store's REST API: the credentials ingest keeps (fetched over its internal
API by adapters/store_access.py). repr=False: an access in a log or traceback shows no secret."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoreAccess:
    store_id: str
    rest_url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
