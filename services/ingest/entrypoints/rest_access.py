"""A store's REST access for the services that write to the store (reviews posts product reviews,
loyalty creates coupons): ingest keeps the credentials, encrypted; they travel only over this
bearer-protected internal endpoint — never on Kafka, never in a log (the log line names the store
and the caller's purpose only)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from services.ingest.entrypoints.admin import StoresDep
from shared.logging import get_logger
from shared.service.deps import TOKEN_ERRORS, HTTPErrorOut, RequireToken
from shared.service.ops import INVALID_REQUEST

log = get_logger(__name__)
StoreIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")]


class RestAccessOut(BaseModel):
    store_id: str
    configured: bool  # False: the store is registered without REST access (no URL or keys yet)
    rest_url: str | None = None  # the store's home URL; the REST API is under wp-json/wc/v3
    consumer_key: str | None = None
    consumer_secret: str | None = None


def rest_access_router() -> APIRouter:
    router = APIRouter(tags=["stores"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/stores/{store_id}/rest-access", summary="A store's REST credentials (internal: reviews, loyalty)",
                responses={404: {"model": HTTPErrorOut, "description": "Unknown store"},
                           **INVALID_REQUEST})
    async def rest_access(store_id: StoreIdPath, stores: StoresDep) -> RestAccessOut:
        store = await stores.get(store_id)
        if store is None:
            raise HTTPException(404, "unknown store")
        if not (store.rest_url and store.consumer_key and store.consumer_secret):
            return RestAccessOut(store_id=store.store_id, configured=False)
        log.info("store_rest_access_read", store_id=store_id)
        return RestAccessOut(store_id=store.store_id, configured=True, rest_url=store.rest_url,
                             consumer_key=store.consumer_key, consumer_secret=store.consumer_secret)

    return router
