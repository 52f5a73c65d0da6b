"""`aftercart` command line. Thin on purpose: each group lives next to the code it drives;
adding one is a single `app.add_typer(group, name="...")` line."""
from __future__ import annotations

import typer

from deploy.local.demo import demo_cmd, where
from deploy.local.services import services_app
from deploy.local.mailcli import mail_app
from deploy.local.stack.runner import stack_app
from services.ingest.entrypoints.cli import ingest_app
from services.notifier.entrypoints.cli import notifier_app

app = typer.Typer(help="Aftercart: post-purchase engine for WooCommerce.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(mail_app, name="mail")
app.add_typer(services_app, name="services")
app.add_typer(ingest_app, name="ingest")
app.add_typer(notifier_app, name="notifier")
app.command("demo")(demo_cmd)
app.command("where", help="Where to look: API docs, mail sink, metrics, logs.")(where)

if __name__ == "__main__":
    app()
