"""`aftercart notifier …`: look at the notifier's messages from a shell.

    aftercart notifier preview order_shipped --locale de          # subject + plain text
    aftercart notifier preview coupon_issued --html > coupon.html  # the HTML part
    aftercart notifier preview welcome --json                      # subject, text, html as JSON

Renders with a sample order (and sample loyalty/reviews data) and the service-wide defaults
(AFTERCART_NOTIFIER_DEFAULT_LOCALE, …); no database or Kafka needed. POST /preview renders with a
store's own settings or a real order.
"""
from __future__ import annotations

import json
from typing import Optional

import typer

from services.notifier.config import NotifierSettings
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.locales import parse_locale
from services.notifier.domain.messages import MessageConfig
from services.notifier.domain.previews import preview

notifier_app = typer.Typer(help="Notifier: preview the messages each flow sends.", no_args_is_help=True)


@notifier_app.command("preview")
def preview_cmd(flow: str = typer.Argument(..., help="the flow (aftercart notifier flows lists them)"),
                locale: Optional[str] = typer.Option(None, "--locale", "-l", help="e.g. de, en_GB (default: the store's)"),
                html: bool = typer.Option(False, "--html", help="print the HTML part instead of the text"),
                as_json: bool = typer.Option(False, "--json", help="print subject, text and html as JSON")) -> None:
    """Render FLOW's message with a sample order."""
    if flow not in FLOWS:
        typer.echo(f"no such flow: {flow} (one of: {', '.join(FLOWS)})", err=True)
        raise typer.Exit(2)
    if locale is not None and parse_locale(locale) is None:
        typer.echo(f"not a locale: {locale}", err=True)
        raise typer.Exit(2)
    # Only the message defaults are read: a preview needs no API token, so none is demanded.
    s = NotifierSettings(environment="development")
    store = MessageConfig(default_locale=s.default_locale, from_address=s.from_address).store_defaults()
    draft = preview(flow, locale=locale, store=store)
    if as_json:
        typer.echo(json.dumps({"flow": flow, "template": draft.template, "locale": draft.locale, "to": draft.to_address,
                               "subject": draft.subject, "text": draft.text, "html": draft.html}, ensure_ascii=False))
    elif html:
        typer.echo(draft.html)
    else:
        typer.echo(f"Subject: {draft.subject}\nTo: {draft.to_address}\nLocale: {draft.locale}\n\n{draft.text}")


@notifier_app.command("flows")
def flows_cmd() -> None:
    """List the flows: marketing or transactional, what triggers them."""
    for f in FLOWS.values():
        kind = "marketing" if f.marketing else "transactional"
        typer.echo(f"{f.name:<20} {kind:<14} {', '.join(f.triggers):<34} {f.description}")
