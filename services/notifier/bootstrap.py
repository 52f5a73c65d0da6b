"""Wires the notifier: settings → runtime → consumer loop (HANDLERS), SMTP sender, outbox relay."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.config import NotifierSettings
from services.notifier.entrypoints.sender import run_sender
from services.notifier.handlers import HANDLERS
from shared.service.runtime import Runtime
from shared.events.registry import ORDERS
from shared.service.workers import consumer_worker, relay_worker

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name]


@dataclass
class Notifier:
    settings: NotifierSettings
    runtime: Runtime
    mailer: SmtpMailer


def bootstrap(settings: NotifierSettings | None = None) -> Notifier:
    s = settings or NotifierSettings()
    mailer = SmtpMailer(s.smtp_host, s.smtp_port, from_address=s.from_address, use_tls=s.smtp_use_tls,
                        starttls=s.smtp_starttls, username=s.smtp_username, password=s.smtp_password,
                        timeout_s=s.smtp_timeout_s)

    async def sender(rt: Runtime) -> None:
        await run_sender(rt, mailer)

    runtime = Runtime("notifier", s, MIGRATIONS, {
        "notifier-consumer": consumer_worker("notifier", TOPICS, HANDLERS),
        "notifier-sender": sender,
        "notifier-relay": relay_worker("notifier"),
    })
    return Notifier(settings=s, runtime=runtime, mailer=mailer)
