"""The customer's review pages, reached only through the signed, expiring link of the ask
(`/r/<token>`; no bearer token, no personal data in the URL). Server-rendered with Jinja2
(autoescaping: HTML typed by anyone is shown as text), no JavaScript, in the order's language.

    GET  /r/<token>          How was it? — stars per product
    POST /r/<token>          the stars → the review form
    GET  /r/<token>/review   the review form; with a low rating, "Can we help?" above it (never instead)
    POST /r/<token>/review   the reviews (multipart: a photo per product) → thanks
    POST /r/<token>/help     a message for the store's support → back to the review form
    GET  /photos/<name>      a stored review photo

Each route parses, calls one step of the reviewing use case (reviewing.py) and renders or
redirects (303, so a reload never submits twice). A bad link is a clear page and stores nothing;
bad input re-renders the form with its message (400) and stores nothing.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Path as PathParam, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile

from services.reviews import reviewing
from services.reviews.domain.page_text import texts_for
from services.reviews.domain.reviews import InvalidInput, wants_help
from shared.service.deps import PoolDep, ServiceDep

TEMPLATES = Path(__file__).parent / "templates"
Token = Annotated[str, PathParam(min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_.\-]+$")]
# The token is in the URL: never send it on as a referrer; never cache or frame the page.
HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; img-src 'self' https: http: data:; "
                                      "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"}
HTML = {"content": {"text/html": {}}}
PAGE_ERRORS = {400: {**HTML, "description": "Bad input: the form again with its message; nothing stored"},
               403: {**HTML, "description": "A forged or altered link"},
               410: {**HTML, "description": "An expired link, or nothing left to review"},
               422: {"description": "A path that can't be a review link"},
               503: {"description": "Storage unavailable, retry later"}}
_LINK_STATUS = {"invalid": 403, "expired": 410, "gone": 410}
MAX_FORM_FILES, MAX_FORM_FIELDS = 20, 200


@lru_cache(maxsize=1)
def templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True,
                                                                                       default_for_string=True))


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(templates().get_template(name).render(**context), status_code=status, headers=HEADERS)


def _link_error(problem: reviewing.LinkProblem) -> HTMLResponse:
    t = texts_for(None)
    return render("error.html.j2", _LINK_STATUS[problem.code], t=t, message=t[f"error_{problem.code}"])


def _items(state: reviewing.PageState) -> list[dict]:
    """The products asked about, named and pictured as the catalogue last said."""
    return [{"product_id": i.product_id, "name": state.products[i.product_id].name if i.product_id in state.products
             else i.name, "image_url": state.products[i.product_id].image_url if i.product_id in state.products
             else None} for i in state.request.open_items]


def _review_page(state: reviewing.PageState, token: str, *, status: int = 200, error: str | None = None,
                 values: dict | None = None, help_sent: bool = False, ratings: dict[int, int] | None = None,
                 display_name: str | None = None) -> HTMLResponse:
    t = texts_for(state.request.locale)
    ratings = ratings if ratings is not None else state.ratings
    return render("review.html.j2", status, t=t, base=f"/r/{token}", items=_items(state), ratings=ratings,
                  reviewed=set(state.reviews), offer_help=wants_help(state.ratings) and state.help is None,
                  help_sent=help_sent or state.help is not None, values=values or {}, error=error,
                  display_name=display_name if display_name is not None else (state.request.first_name or ""))


def _form_ratings(form, prefix: str = "rating_") -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for key in form.keys():
        if key.startswith(prefix):
            try:
                out[int(key[len(prefix):])] = form.get(key)
            except ValueError:
                raise InvalidInput("not_in_order") from None
    return out


def pages_router() -> APIRouter:
    router = APIRouter(tags=["customer review pages (signed links)"])

    @router.get("/r/{token}", summary="How was it? (stars per product)", response_class=HTMLResponse,
                responses=PAGE_ERRORS)
    async def rate_page(token: Token, service: ServiceDep, pool: PoolDep) -> Response:
        try:
            state = await reviewing.page_state(service.transactions(pool), service.links, token)
        except reviewing.LinkProblem as p:
            return _link_error(p)
        t = texts_for(state.request.locale)
        if state.reviews and set(state.reviews) >= {i.product_id for i in state.request.open_items}:
            return render("thanks.html.j2", t=t)
        return render("rate.html.j2", t=t, base=f"/r/{token}", items=_items(state), ratings=state.ratings,
                      order_number=state.request.order_number or state.request.order_id, error=None)

    @router.post("/r/{token}", summary="Take the stars", response_class=HTMLResponse,
                 responses={303: {"description": "On to the review form"}, **PAGE_ERRORS})
    async def rate(token: Token, request: Request, service: ServiceDep, pool: PoolDep) -> Response:
        tx = service.transactions(pool)
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        try:
            await reviewing.rate(tx, service.links, token, _form_ratings(form), service.now())
        except reviewing.LinkProblem as p:
            return _link_error(p)
        except InvalidInput as bad:
            try:
                state = await reviewing.page_state(tx, service.links, token)
            except reviewing.LinkProblem as p:
                return _link_error(p)
            t = texts_for(state.request.locale)
            return render("rate.html.j2", 400, t=t, base=f"/r/{token}", items=_items(state),
                          ratings=state.ratings, order_number=state.request.order_number or state.request.order_id,
                          error=t[bad.code])
        return RedirectResponse(f"/r/{token}/review", 303, headers=HEADERS)

    @router.get("/r/{token}/review", summary="The review form (and help for a low rating)",
                response_class=HTMLResponse, responses={303: {"description": "Stars first"}, **PAGE_ERRORS})
    async def review_page(token: Token, service: ServiceDep, pool: PoolDep) -> Response:
        try:
            state = await reviewing.page_state(service.transactions(pool), service.links, token)
        except reviewing.LinkProblem as p:
            return _link_error(p)
        if not state.ratings:
            return RedirectResponse(f"/r/{token}", 303, headers=HEADERS)
        return _review_page(state, token)

    @router.post("/r/{token}/review", summary="Take the reviews", response_class=HTMLResponse,
                 responses={303: {"description": "Thank you"}, **PAGE_ERRORS})
    async def submit(token: Token, request: Request, service: ServiceDep, pool: PoolDep) -> Response:
        tx = service.transactions(pool)
        form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
        limit = service.settings.photo_max_bytes
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        ratings: dict[int, str | None] = {}
        try:
            ratings = _form_ratings(form)
            entries = []
            for pid in sorted(set(ratings) | set(_form_ratings(form, "text_"))):
                photo = form.get(f"photo_{pid}")
                raw = await photo.read(limit + 1) if isinstance(photo, UploadFile) else None
                entries.append(reviewing.Entry(product_id=pid, rating=ratings.get(pid), title=form.get(f"title_{pid}"),
                                               text=form.get(f"text_{pid}"), photo=raw or None))
            await reviewing.submit(tx, service.links, service.photos, token, entries, form.get("display_name"),
                                   service.now(), limits=service.photo_limits, moderation=service.moderation)
        except reviewing.LinkProblem as p:
            return _link_error(p)
        except InvalidInput as bad:
            try:
                state = await reviewing.page_state(tx, service.links, token)
            except reviewing.LinkProblem as p:
                return _link_error(p)
            shown = {pid: int(v) for pid, v in ratings.items() if str(v).isdigit()}  # what was chosen stays chosen
            return _review_page(state, token, status=400, error=texts_for(state.request.locale)[bad.code],
                                values=values, ratings=shown or None, display_name=values.get("display_name"))
        finally:
            await form.close()
        service.runtime.outbox_written.set()
        return RedirectResponse(f"/r/{token}/thanks", 303, headers=HEADERS)

    @router.post("/r/{token}/help", summary="Ask the store for help", response_class=HTMLResponse,
                 responses={303: {"description": "Back to the review form"}, **PAGE_ERRORS})
    async def ask_help(token: Token, request: Request, service: ServiceDep, pool: PoolDep) -> Response:
        tx = service.transactions(pool)
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        try:
            await reviewing.ask_help(tx, service.links, token, form.get("message"), service.now())
        except reviewing.LinkProblem as p:
            return _link_error(p)
        except InvalidInput as bad:
            try:
                state = await reviewing.page_state(tx, service.links, token)
            except reviewing.LinkProblem as p:  # a bad link says so first, whatever the form held
                return _link_error(p)
            return _review_page(state, token, status=400, error=texts_for(state.request.locale)[bad.code],
                                values={"message": form.get("message") or ""})
        service.runtime.outbox_written.set()
        return RedirectResponse(f"/r/{token}/review", 303, headers=HEADERS)

    @router.get("/r/{token}/thanks", summary="Thank you (and the optional satisfaction question)",
                response_class=HTMLResponse, responses=PAGE_ERRORS)
    async def thanks(token: Token, service: ServiceDep, pool: PoolDep) -> Response:
        tx = service.transactions(pool)
        try:
            state = await reviewing.page_state(tx, service.links, token)
        except reviewing.LinkProblem as p:
            return _link_error(p)
        async with tx() as t:
            score = await t.reviews.csat(state.request.request_id)
        return render("thanks.html.j2", t=texts_for(state.request.locale), base=f"/r/{token}", csat=score)

    @router.post("/r/{token}/csat", summary="The optional satisfaction score (1–5)", response_class=HTMLResponse,
                 responses={303: {"description": "Back to the thank-you page"}, **PAGE_ERRORS})
    async def csat(token: Token, request: Request, service: ServiceDep, pool: PoolDep) -> Response:
        tx = service.transactions(pool)
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        try:
            await reviewing.rate_satisfaction(tx, service.links, token, form.get("score"), service.now())
        except reviewing.LinkProblem as p:
            return _link_error(p)
        except InvalidInput as bad:
            try:
                state = await reviewing.page_state(tx, service.links, token)
            except reviewing.LinkProblem as p:
                return _link_error(p)
            t = texts_for(state.request.locale)
            return render("thanks.html.j2", 400, t=t, base=f"/r/{token}", csat=None, error=t[bad.code])
        return RedirectResponse(f"/r/{token}/thanks", 303, headers=HEADERS)

    @router.get("/photos/{name}", summary="A review photo", response_class=FileResponse,
                responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No such photo"},
                           422: {"description": "Not a photo name"}})
    async def photo(name: Annotated[str, PathParam(max_length=100)], service: ServiceDep) -> Response:
        path = service.photos.path(name)
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="image/jpeg", headers={"X-Content-Type-Options": "nosniff",
                                                                    "Cache-Control": "public, max-age=86400"})

    return router
