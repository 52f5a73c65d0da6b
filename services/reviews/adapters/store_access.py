"""IngestStoreAccess: a store's REST credentials from ingest's internal API
(GET /stores/{id}/rest-access, with ingest's bearer token), kept in memory for a short while so a
rotated key is picked up soon. Never logged, never written anywhere.
tests/support/fakes/reviews.py's FakeStoreAccess is its in-memory twin."""
from __future__ import annotations

import time

import httpx

from services.reviews.domain.publication import PublishRefused, is_temporary
from services.reviews.domain.stores import StoreAccess


class IngestStoreAccess:
    def __init__(self, client: httpx.AsyncClient, ingest_url: str, token: str, ttl_s: float = 60.0) -> None:
        self.client, self.ingest_url, self.token, self.ttl_s = client, ingest_url.rstrip("/"), token, ttl_s
        self._cache: dict[str, tuple[float, StoreAccess]] = {}

    async def get(self, store_id: str) -> StoreAccess:
        hit = self._cache.get(store_id)
        if hit and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        try:
            r = await self.client.get(f"{self.ingest_url}/stores/{store_id}/rest-access",
                                      headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise PublishRefused(f"ingest rest-access: {type(exc).__name__}", temporary=True) from None
        if r.status_code != 200:
            # 404: ingest doesn't know the store (yet): worth another try once it is registered.
            raise PublishRefused(f"ingest rest-access → {r.status_code}",
                                 temporary=r.status_code == 404 or is_temporary(r.status_code), status=r.status_code)
        body = r.json()
        if not body.get("configured", True):
            # Registered without REST access (yet): worth another try once it is set.
            raise PublishRefused("ingest rest-access: none set for this store", temporary=True, status=200)
        access = StoreAccess(store_id=store_id, rest_url=body["rest_url"], consumer_key=body["consumer_key"],
                             consumer_secret=body["consumer_secret"])
        self._cache[store_id] = (time.monotonic(), access)
        return access
