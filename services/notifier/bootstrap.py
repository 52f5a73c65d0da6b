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
from services.notifier.domain.links import LinkSigner, derived_secret
from services.notifier.domain.messages import MessageConfig
from services.notifier.entrypoints.workers import run_sender
from services.notifier.gating import Gate
from services.notifier.handlers import HANDLERS
from services.notifier.sending import Transactions
from services.notifier.metrics import notifier_metrics
from shared.events.registry import CATALOG, CUSTOMERS, LOYALTY, ORDERS, PROFILES, REVIEWS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CUSTOMERS.name, LOYALTY.name, REVIEWS.name, PROFILES.name, CATALOG.name]


@dataclass
class Notifier:
    settings: NotifierSettings
    runtime: Runtime
    mailer: SmtpMailer
    links: LinkSigner | None = None  # signs and checks the customer pages' links (gating, customer_pages)

    def message_history(self, pool: asyncpg.Pool) -> PgMessages:
        """The messages repository the API reads the history from."""
        return PgMessages(pool)

    def transactions(self, pool: asyncpg.Pool) -> Transactions:
        """Units of work on `pool`, for the API's use cases (preferences, suppressions)."""
        return lambda: in_transaction(pool)


def message_config(settings: NotifierSettings) -> MessageConfig:
    return MessageConfig(default_locale=settings.default_locale, from_address=settings.from_address,
                         flow_defaults=settings.flow_defaults)


def link_signer(settings: NotifierSettings) -> LinkSigner:
    return LinkSigner(settings.link_secret or derived_secret(settings.api_token), max_age_s=settings.link_max_age_s,
                      base_url=settings.public_base_url)


def channels(settings: NotifierSettings, mailer: SmtpMailer) -> dict[str, Channel]:
    """The channels a message goes out on, by name (StoredMessage.channel)."""
    return {EMAIL: EmailChannel(mailer),
            WEBHOOK: WebhookChannel(timeout_s=settings.webhook_timeout_s,
                                    development=settings.environment == "development")}


async def refresh_queue_gauges(rt: Runtime) -> None:
    """The queue gauges, measured when /metrics is scraped (once the database is connected)."""
    if rt.pool is not None:
        depth, oldest = await PgMessages(rt.pool).queue_stats()
        metrics = notifier_metrics()
        metrics.queue_depth.set(depth)
        metrics.oldest_due_age.set(oldest)


def bootstrap(settings: NotifierSettings | None = None) -> Notifier:
    s = settings or NotifierSettings()
    mailer = SmtpMailer(s.smtp_host, s.smtp_port, from_address=s.from_address, use_tls=s.smtp_use_tls,
                        starttls=s.smtp_starttls, username=s.smtp_username, password=s.smtp_password,
                        timeout_s=s.smtp_timeout_s, pool_size=s.smtp_pool_size, idle_s=s.smtp_pool_idle_s,
                        validate_certs=s.smtp_validate_certs, cert_bundle=s.smtp_cert_bundle)

    links = link_signer(s)
    gate = Gate(links, lease_s=s.send_lease_s)  # consent, suppression, quiet hours, budget, digest

    async def sender(rt: Runtime) -> None:
        # rt.pool is read per message, so the sender always uses the runtime's current pool.
        out = channels(s, mailer)
        try:
            await run_sender(lambda: in_transaction(rt.pool), out, s, decide=gate.decide,
                             written=rt.outbox_written.set)
        finally:  # stopping: QUIT the pooled SMTP sessions, close the webhook client's connections
            for channel in out.values():
                await channel.close()

    unit_of_work = partial(NotifierUnitOfWork, config=message_config(s))
    runtime = consumer_runtime("notifier", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True,
                               workers={"notifier-sender": sender})
    runtime.before_scrape.append(partial(refresh_queue_gauges, runtime))
    return Notifier(settings=s, runtime=runtime, mailer=mailer, links=links)
