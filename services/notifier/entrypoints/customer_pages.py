"""The public customer pages — the only notifier routes without the bearer token, so each needs a
signed, expiring link token (domain/links.py; a bad one is a 400, an expired one a 410, and
nothing changes):

    GET  /u/{token}              "Unsubscribe from <store>'s marketing emails?" — one button
    POST /u/{token}              the unsubscribe itself: RFC 8058's one-click POST from the mail
                                 provider (body "List-Unsubscribe=One-Click") or that button;
                                 answers with the preferences page
    GET  /u/{token}/preferences  marketing emails yes/no
    POST /u/{token}/preferences  saves it (form field marketing=yes|no)

Transactional mail (receipts, shipping, refunds) is not affected: the pages say so.
"""
from __future__ import annotations

import html
from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from fastapi.responses import HTMLResponse

from services.notifier.domain.consent import PREFERENCES
from services.notifier.entrypoints.api_customers import TransactionsDep
from services.notifier.domain.links import BadLink, ExpiredLink, UnsubscribeTarget
from services.notifier.preferences import Preferences, preferences, set_marketing, unsubscribe
from shared.events.envelope import utcnow
from shared.service.deps import HTTPErrorOut, ServiceDep

MAX_FORM_BYTES = 1_024
ONE_CLICK = "List-Unsubscribe=One-Click"
PAGE_ERRORS: dict[int | str, dict] = {
    400: {"description": "The link is not valid (or the form is not)", "content": {"text/html": {}}},
    410: {"description": "The link has expired", "content": {"text/html": {}}},
    503: {"model": HTTPErrorOut, "description": "Storage unavailable, retry later"},
}
_STYLE = ("body{font-family:Helvetica,Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
          "color:#222}button{padding:.6rem 1.2rem;font-size:1rem}")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
           f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title>'
           f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return HTMLResponse(doc, status_code=status, headers={"Cache-Control": "no-store",
                                                          "Referrer-Policy": "no-referrer"})


class _Refused(Exception):
    def __init__(self, response: HTMLResponse) -> None:
        self.response = response


def _target(service: object, token: str) -> UnsubscribeTarget:
    try:
        return service.links.verify(token)
    except ExpiredLink:
        raise _Refused(_page("This link has expired", "<p>Please use the link in a more recent email.</p>", 410))
    except BadLink:
        raise _Refused(_page("This link is not valid", "<p>Please use the link exactly as it is in the email."
                                                        "</p>", 400))


async def _form(request: Request) -> dict[str, str]:
    """The POSTed fields. RFC 8058 allows multipart/form-data (its SHOULD) and urlencoded: both are
    read (python-multipart through Starlette); anything else, or too long, is refused."""
    if len(await request.body()) > MAX_FORM_BYTES:
        raise _Refused(_page("Not understood", "<p>The form was too long.</p>", 400))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise _Refused(_page("Not understood", "<p>Expected a form.</p>", 400))
    try:
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
    except (HTTPException, ValueError, UnicodeDecodeError):  # malformed multipart or encoding
        raise _Refused(_page("Not understood", "<p>The form could not be read.</p>", 400))
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _preferences_page(token: str, prefs: Preferences, note: str | None) -> HTMLResponse:
    yes = prefs.marketing is True and not prefs.unsubscribed
    safe = html.escape(token, quote=True)
    said = f'<p role="status"><strong>{html.escape(note)}</strong></p>' if note else ""
    return _page("Your email preferences", (
        f"{said}<p>Marketing emails (offers, points and review requests): <strong>{'on' if yes else 'off'}"
        f"</strong>.</p>"
        f'<form method="post" action="/u/{safe}/preferences">'
        f'<input type="hidden" name="marketing" value="{"no" if yes else "yes"}">'
        f'<button type="submit">{"Stop marketing emails" if yes else "Receive marketing emails"}</button></form>'
        "<p>Emails about your orders (confirmations, shipping, refunds) always reach you.</p>"))


def customer_pages_router() -> APIRouter:
    router = APIRouter(tags=["customer pages"])

    @router.get("/u/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS,
                summary="Public, signed link: asks to confirm the unsubscribe")
    async def confirm(token: str, service: ServiceDep) -> HTMLResponse:
        try:
            _target(service, token)
        except _Refused as refused:
            return refused.response
        safe = html.escape(token, quote=True)
        return _page("Unsubscribe?", (
            "<p>You will get no more marketing emails from this store. Emails about your orders still reach"
            f' you.</p><form method="post" action="/u/{safe}"><input type="hidden" name="List-Unsubscribe"'
            ' value="One-Click"><button type="submit">Unsubscribe</button></form>'))

    @router.post("/u/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS,
                 summary="Public, signed link: unsubscribe (RFC 8058 one-click POST, or the confirm button)")
    async def one_click(token: str, request: Request, service: ServiceDep,
                        transactions: TransactionsDep) -> HTMLResponse:
        try:
            target = _target(service, token)
            if (await _form(request)).get("List-Unsubscribe") != "One-Click":
                raise _Refused(_page("Not understood", f"<p>Expected {html.escape(ONE_CLICK)}.</p>", 400))
        except _Refused as refused:
            return refused.response
        async with transactions() as tx:
            await unsubscribe(tx, target, utcnow())
            prefs = await preferences(tx, target.store_id, target.customer_key, [target.address_hash])
        return _preferences_page(token, prefs, "You are unsubscribed.")

    @router.get("/u/{token}/preferences", response_class=HTMLResponse, responses=PAGE_ERRORS,
                summary="Public, signed link: the customer's email preferences")
    async def show(token: str, service: ServiceDep, transactions: TransactionsDep) -> HTMLResponse:
        try:
            target = _target(service, token)
        except _Refused as refused:
            return refused.response
        async with transactions() as tx:
            prefs = await preferences(tx, target.store_id, target.customer_key, [target.address_hash])
        return _preferences_page(token, prefs, None)

    @router.post("/u/{token}/preferences", response_class=HTMLResponse, responses=PAGE_ERRORS,
                 summary="Public, signed link: save the customer's email preferences")
    async def save(token: str, request: Request, service: ServiceDep,
                        transactions: TransactionsDep) -> HTMLResponse:
        try:
            target = _target(service, token)
            choice = (await _form(request)).get("marketing")
            if choice not in ("yes", "no"):
                raise _Refused(_page("Not understood", "<p>Choose yes or no.</p>", 400))
        except _Refused as refused:
            return refused.response
        async with transactions() as tx:
            prefs = await set_marketing(tx, store_id=target.store_id, customer_key=target.customer_key,
                                        marketing=choice == "yes", source=PREFERENCES, at=utcnow(),
                                        address_hashes=[target.address_hash])
        return _preferences_page(token, prefs, "Saved.")

    return router
