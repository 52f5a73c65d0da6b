"""FastAPI dependencies every service's API uses, typed with `Annotated` so routes never reach into
`request.app.state`: the bootstrapped service, its database pool (503 while PostgreSQL is away),
and the bearer token that guards every internal endpoint (/healthz, /readyz, /metrics stay open).
TOKEN_ERRORS documents the answers those two give, for every route of a router that uses them.

    router = APIRouter(dependencies=[RequireToken], responses=TOKEN_ERRORS)
    @router.get("/x")
    async def x(pool: PoolDep) -> XOut: ...
"""
from __future__ import annotations

import hmac
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

# auto_error=False: a missing header gets our 401 (with WWW-Authenticate), not FastAPI's 403.
bearer_scheme = HTTPBearer(auto_error=False, description="the service's API token (AFTERCART_<SERVICE>_API_TOKEN)")


def get_service(request: Request) -> Any:
    """The object bootstrap built for this app (settings, runtime, adapters)."""
    return request.app.state.service


ServiceDep = Annotated[Any, Depends(get_service)]


def get_pool(service: ServiceDep) -> asyncpg.Pool:
    pool = service.runtime.pool
    if pool is None:
        raise HTTPException(503, "storage unavailable, retry later")
    return pool


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]


def require_token(service: ServiceDep,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> None:
    expected = service.settings.api_token
    if creds is None or not hmac.compare_digest(creds.credentials.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


RequireToken = Depends(require_token)


class HTTPErrorOut(BaseModel):
    """The body of an HTTPException (FastAPI's shape): 400/404 a route raises, the 401 and 503 above."""
    detail: str


# The OpenAPI's account of RequireToken and PoolDep, so clients (and the fuzz tests, which check
# every answer against the document) know a route can say these.
TOKEN_ERRORS: dict[int | str, dict] = {
    401: {"model": HTTPErrorOut, "description": "Bearer token missing or wrong",
          "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}},
    503: {"model": HTTPErrorOut, "description": "Storage unavailable, retry later"},
}
