"""/healthz, /readyz and /metrics, the same on every service, plus JSON errors that never 5xx
on bad input (FastAPI's validation errors become 400/422 with a clear message). The models and
`responses=` entries below document those errors in each route's OpenAPI."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from shared.logging import get_logger
from shared.metrics import CONTENT_TYPE_LATEST, render_metrics
from shared.service.deps import HTTPErrorOut

log = get_logger(__name__)

ReadinessFn = Callable[[], Awaitable[dict[str, str]]]


class ReadinessOut(BaseModel):
    ready: bool
    dependencies: dict[str, str]
    missing: list[str]


class ProblemOut(BaseModel):
    """A refusal this module's handlers write: a value storage refused (400), a duplicate (409)."""
    error: str
    message: str


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str


class InvalidRequestOut(BaseModel):
    """A request that fails its parameters' or body's declared types and limits."""
    error: str
    details: list[FieldErrorOut]


# For routes' `responses=`: 422 replaces FastAPI's default entry (a `detail` list we don't write).
INVALID_REQUEST: dict[int | str, dict] = {422: {"model": InvalidRequestOut,
                                                "description": "Parameters or body not as declared"}}
# 400 says either: HTTPException's `detail` (a body that isn't JSON, a rule the route checks) or
# ProblemOut (a value storage refused).
INVALID_VALUE: dict[int | str, dict] = {400: {"model": HTTPErrorOut | ProblemOut,
                                              "description": "Not acceptable: unreadable body, a rule of the"
                                                             " route, or a value storage refused"}}
CONFLICT: dict[int | str, dict] = {409: {"model": ProblemOut, "description": "Conflicts with an existing record"}}


def ops_router(readiness: ReadinessFn, before_scrape: list[Callable[[], Awaitable[None]]] | None = None
               ) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: every dependency reachable; names what is missing",
                response_model=ReadinessOut, responses={503: {"model": ReadinessOut, "description": "Not ready"}})
    async def readyz() -> JSONResponse:
        deps = await readiness()
        # "degraded: …" is a detail to act on (outbox rows parked), not a reason to take the
        # instance out of service.
        missing = sorted(d for d, s in deps.items() if s != "up" and not s.startswith("degraded"))
        return JSONResponse({"ready": not missing, "dependencies": deps, "missing": missing},
                            status_code=200 if not missing else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        for refresh in before_scrape or ():
            try:  # bounded: a slow database must not hang the scrape; the gauge keeps its last figure
                await asyncio.wait_for(refresh(), 1.0)
            except Exception as exc:
                log.warning("metrics_refresh_failed", error=type(exc).__name__)
        return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)  # every worker's, if several

    return router


def install_error_handlers(app: FastAPI) -> None:
    import asyncpg
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.routing import Match

    # Starlette answers 405 from the first route whose path matches and lists only that route's
    # methods (GET /stores hides POST /stores): name every method the path is served with.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        methods = set()
        for route in getattr(request.app, "served_routes", request.app.router.routes):
            if route.matches(request.scope)[0] != Match.NONE:
                methods |= set(getattr(route, "methods", None) or ())
        allow = ", ".join(sorted(methods)) or (exc.headers or {}).get("Allow", "")
        return JSONResponse({"detail": exc.detail}, status_code=405, headers={"Allow": allow})

    # Safety nets: input PostgreSQL refuses (a NUL character, an impossible value) or a duplicate
    # of something unique is the caller's mistake — say so with a 4xx, never a 500.
    @app.exception_handler(asyncpg.exceptions.DataError)
    async def _bad_value(_: Request, exc: asyncpg.exceptions.DataError) -> JSONResponse:
        return JSONResponse({"error": "invalid_value", "message": "a value was not acceptable to storage"},
                            status_code=400)

    @app.exception_handler(asyncpg.exceptions.UniqueViolationError)
    async def _conflict(_: Request, exc: asyncpg.exceptions.UniqueViolationError) -> JSONResponse:
        return JSONResponse({"error": "conflict", "message": f"already exists ({exc.constraint_name})"},
                            status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse({"error": "invalid_request", "details": errors}, status_code=422)

