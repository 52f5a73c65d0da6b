"""Wires the notifier: settings → runtime → consumer loop (HANDLERS with a NotifierUnitOfWork per
event, carrying the message settings), the sender (sending.py, a transaction per message on the
pool), the outbox relay."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import asyncpg

from services.notifier.adapters.email_channel import EmailChannel
from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.adapters.messages import PgMessages
from services.notifier.adapters.unit_of_work import NotifierUnitOfWork, in_transaction
from services.notifier.adapters.webhook_channel import WebhookChannel
from services.notifier.config import NotifierSettings
from services.notifier.domain.channels import EMAIL, WEBHOOK, Channel
from services.notifier.domain.messages import MessageConfig
from services.notifier.entrypoints.workers import run_sender
from services.notifier.handlers import HANDLERS
from shared.events.registry import CUSTOMERS, LOYALTY, ORDERS, REVIEWS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CUSTOMERS.name, LOYALTY.name, REVIEWS.name]


@dataclass
class Notifier:
    settings: NotifierSettings
    runtime: Runtime
    mailer: SmtpMailer

    def message_history(self, pool: asyncpg.Pool) -> PgMessages:
        """The messages repository the API reads the history from."""
        return PgMessages(pool)


def message_config(settings: NotifierSettings) -> MessageConfig:
    return MessageConfig(default_locale=settings.default_locale, from_address=settings.from_address)


def channels(settings: NotifierSettings, mailer: SmtpMailer) -> dict[str, Channel]:
    """The channels a message goes out on, by name (StoredMessage.channel)."""
    return {EMAIL: EmailChannel(mailer),
            WEBHOOK: WebhookChannel(timeout_s=settings.webhook_timeout_s,
                                    development=settings.environment == "development")}


def bootstrap(settings: NotifierSettings | None = None) -> Notifier:
    s = settings or NotifierSettings()
    mailer = SmtpMailer(s.smtp_host, s.smtp_port, from_address=s.from_address, use_tls=s.smtp_use_tls,
                        starttls=s.smtp_starttls, username=s.smtp_username, password=s.smtp_password,
                        timeout_s=s.smtp_timeout_s, pool_size=s.smtp_pool_size, idle_s=s.smtp_pool_idle_s,
                        validate_certs=s.smtp_validate_certs, cert_bundle=s.smtp_cert_bundle)

    async def sender(rt: Runtime) -> None:
        # rt.pool is read per message, so the sender always uses the runtime's current pool.
        await run_sender(lambda: in_transaction(rt.pool), mailer, s)

    unit_of_work = partial(NotifierUnitOfWork, config=message_config(s))
    runtime = consumer_runtime("notifier", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True,
                               workers={"notifier-sender": sender})
    return Notifier(settings=s, runtime=runtime, mailer=mailer)
