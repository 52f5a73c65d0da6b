"""`aftercart mail list|show|clear`: read what the SMTP sink caught.

Reads the .eml files in <state_dir>/mail directly, so it works even while the sink is down.
"""
from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from deploy.local.stack.config import StackSettings
from deploy.local.mailsink import MailStore, public

mail_app = typer.Typer(help="Messages caught by the local SMTP sink.", no_args_is_help=True)


def _store() -> MailStore:
    return MailStore(StackSettings().mail_dir)


@mail_app.command("list")
def list_cmd(to: Optional[str] = typer.Option(None, help="Only messages to this address."),
             as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")):
    """List messages, oldest first: id, time, from, to, subject."""
    msgs = _store().messages(to)
    if as_json:
        typer.echo(json.dumps([public(m) for m in msgs], indent=2, default=str))
        return
    for m in msgs:
        typer.echo(f"{m['id']}  {m['received_at'][:19]}  {m['mail_from']:28.28}  "
                   f"{','.join(m['rcpt_tos']):28.28}  {m['subject']}")
    typer.echo(f"({len(msgs)} message{'s' if len(msgs) != 1 else ''})", err=True)


@mail_app.command("show")
def show_cmd(msg_id: str = typer.Argument(..., metavar="ID"),
             raw: bool = typer.Option(False, "--raw", help="Print the stored .eml bytes.")):
    """Show one message: headers and text body."""
    store = _store()
    m = store.get(msg_id)
    if m is None:
        typer.echo(f"no message {msg_id} in {store.dir}", err=True)
        raise typer.Exit(1)
    if raw:
        sys.stdout.buffer.write(store.raw(msg_id) or b"")
        return
    typer.echo(f"Envelope-From: {m['mail_from']}\nEnvelope-To: {', '.join(m['rcpt_tos'])}\n"
               f"Received-At: {m['received_at']}")
    for k, v in m["headers"].items():
        typer.echo(f"{k}: {v}")
    typer.echo("")
    typer.echo(m["text"] if m["text"] is not None else "(no text/plain part)")
    if m["html"]:
        typer.echo(f"\n(+ text/html part, {len(m['html'])} chars; use --raw to see it)")


@mail_app.command("clear")
def clear_cmd():
    """Delete every stored message."""
    typer.echo(f"deleted {_store().clear()} message(s)")
