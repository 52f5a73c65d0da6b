"""Command line for the store simulator.

    python -m deploy.local.storesim serve --port 8080 --consumer-key ck_x --consumer-secret cs_x \\
        [--play-to http://127.0.0.1:8001/webhooks/woocommerce --secret S]
    python -m deploy.local.storesim play --delivery-url http://127.0.0.1:8001/webhooks/woocommerce \\
        --secret S --source https://demo-store.example/

``serve`` runs the REST API on 127.0.0.1 and an Action Scheduler-like runner that delivers
webhooks registered on the store (e.g. through ``POST /wp-json/wc/v3/webhooks``). With
``--play-to`` it also plays the day in the same process, against the same store, so the
REST API shows exactly the orders the webhooks described; the home URL (the
X-WC-Webhook-Source) is then the served URL, ``http://127.0.0.1:<port>/``.
``play`` only delivers (no REST API): handy to push a day of traffic at a receiver.
``--oauth-only`` makes plain http take OAuth 1.0a signatures only, as WooCommerce does (the default
also takes Basic over http); ``--ssl-certfile``/``--ssl-keyfile`` serve https (then Basic, as
WooCommerce over https).
"""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from typing import Optional

import typer
import uvicorn

from .rest_api import DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET, create_app
from .scenario import play_day
from .store import Store
from .webhooks import Queue, WebhookSender, make_sender_factory

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="A WooCommerce store simulator (REST API + webhook deliveries).")


def _store(home_url: str, utc_offset_hours: float, seed: int, id_base: int = 0) -> Store:
    return Store(home_url, utc_offset=timedelta(hours=utc_offset_hours), seed=seed, id_base=id_base)


async def _runner(queue: Queue, interval: float) -> None:
    """Action Scheduler's async runner: delivers whatever is pending, every ``interval``."""
    while True:
        await asyncio.sleep(interval)
        await queue.run()


async def _serve(host: str, port: int, store: Store, consumer_key: str, consumer_secret: str,
                 play_to: Optional[str], secret: Optional[str], step_delay: float,
                 runner_interval: float, oauth_only: bool = False, ssl_certfile: Optional[str] = None,
                 ssl_keyfile: Optional[str] = None) -> None:
    factory = make_sender_factory(store.home_url, auth_salt=store.auth_salt)

    async def ping(hook) -> int:
        return await WebhookSender.for_webhook(hook, store.home_url,
                                               auth_salt=store.auth_salt).send_ping()

    app = create_app(store, consumer_key=consumer_key, consumer_secret=consumer_secret, ping=ping,
                     basic_over_http=not oauth_only)
    queue = Queue().attach(store, factory)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info",
                                           ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile))
    serving = asyncio.create_task(server.serve())
    runner = asyncio.create_task(_runner(queue, runner_interval))
    try:
        if play_to:
            while not server.started:
                if serving.done():
                    return await serving
                await asyncio.sleep(0.05)
            summary = await play_day(store, factory, delivery_url=play_to, secret=secret,
                                     step_delay=step_delay, queue=queue)
            print(json.dumps(summary.as_dict(), indent=2), flush=True)
        await serving
    finally:
        runner.cancel()


@cli.command()
def serve(port: int = typer.Option(8080, help="Port on 127.0.0.1."),
          host: str = typer.Option("127.0.0.1"),
          consumer_key: str = typer.Option(DEFAULT_CONSUMER_KEY, help="REST API consumer key."),
          consumer_secret: str = typer.Option(DEFAULT_CONSUMER_SECRET, help="REST API consumer secret."),
          home_url: Optional[str] = typer.Option(None, help="Store home URL (default: the served URL)."),
          play_to: Optional[str] = typer.Option(None, help="Also play the day, delivering to this URL."),
          secret: Optional[str] = typer.Option(None, help="Webhook secret for --play-to."),
          step_delay: float = typer.Option(0.0, help="Seconds between steps of the day."),
          runner_interval: float = typer.Option(1.0, help="Seconds between queue runs."),
          utc_offset_hours: float = typer.Option(2.0, help="Site timezone offset."),
          seed: int = typer.Option(0, help="Seed for order keys and other random values."),
          oauth_only: bool = typer.Option(False, help="Over plain http, log in OAuth 1.0a signed requests only (as WooCommerce)."),
          ssl_certfile: Optional[str] = typer.Option(None, help="Serve https with this certificate (PEM)."),
          ssl_keyfile: Optional[str] = typer.Option(None, help="The certificate's private key (PEM)."),
          id_base: int = typer.Option(0, help="Added to every id the store hands out (a new day's fresh ids).")
          ) -> None:
    """Serve the REST API (and optionally play the day against a receiver)."""
    scheme = "https" if ssl_certfile else "http"
    store = _store(home_url or f"{scheme}://{host}:{port}/", utc_offset_hours, seed, id_base)
    if play_to and not secret:
        raise typer.BadParameter("--play-to needs --secret (the receiver must know it)")
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise typer.BadParameter("--ssl-certfile and --ssl-keyfile go together")
    asyncio.run(_serve(host, port, store, consumer_key, consumer_secret, play_to, secret,
                       step_delay, runner_interval, oauth_only, ssl_certfile, ssl_keyfile))


@cli.command()
def play(delivery_url: str = typer.Option(..., help="Receiver URL, e.g. http://127.0.0.1:8001/webhooks/woocommerce"),
         secret: str = typer.Option(..., help="Webhook secret shared with the receiver."),
         source: str = typer.Option("https://demo-store.example/", help="Store home URL (X-WC-Webhook-Source), with trailing slash."),
         step_delay: float = typer.Option(0.0, help="Seconds between steps of the day."),
         ping: bool = typer.Option(True, help="Ping each webhook first, like POST /webhooks."),
         utc_offset_hours: float = typer.Option(2.0, help="Site timezone offset."),
         seed: int = typer.Option(0)) -> None:
    """Play the day against a receiver, without serving the REST API."""
    store = _store(source, utc_offset_hours, seed)
    factory = make_sender_factory(store.home_url, auth_salt=store.auth_salt)
    summary = asyncio.run(play_day(store, factory, delivery_url=delivery_url, secret=secret,
                                   step_delay=step_delay, ping=ping))
    print(json.dumps(summary.as_dict(), indent=2))
    if any(not 200 <= d.status_code < 303 for d in summary.deliveries):
        sys.exit(1)


if __name__ == "__main__":
    cli()
