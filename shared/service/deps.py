"""FastAPI dependencies every service's API uses, typed with `Annotated` so routes never reach into
`request.app.state`: the bootstrapped service, its database pool (503 while PostgreSQL is away),
and the bearer token that guards every internal endpoint (/healthz, /readyz, /metrics stay open).

    router = APIRouter(dependencies=[RequireToken])
    @router.get("/x")
    async def x(pool: PoolDep) -> XOut: ...
"""
from __future__ import annotations

import hmac
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
