"""Notifier settings (env prefix AFTERCART_NOTIFIER_). Defaults send to the local SMTP sink."""
from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from services.notifier.domain.flows import FLOWS
from services.notifier.domain.locales import parse_locale
from services.notifier.domain.store_settings import FlowDefaults

from shared.service.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_NOTIFIER_", extra="ignore")

    port: int = 8002
    database_url: str = "postgresql://notifier:notifier@127.0.0.1:55432/notifier"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-notifier-token"
    # SMTP relay. Production: your provider's host, 587 + starttls (or 465 + use_tls) and credentials.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_use_tls: bool = False
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 10.0
    # Channels (ntf-channels). SMTP connections kept open and reused by the mailer (also the most
    # messages in flight at once); one idle longer than smtp_pool_idle_s is reopened (relays drop
    # quiet sessions). TLS certificates are verified unless smtp_validate_certs is off (a test relay
    # with a self-signed one: prefer smtp_cert_bundle, a CA file that trusts it).
    smtp_pool_size: int = 4
    smtp_pool_idle_s: float = 30.0
    smtp_validate_certs: bool = True
    smtp_cert_bundle: str | None = None
    # The outgoing webhook channel: how long one POST to a store's URL may take.
    webhook_timeout_s: float = 10.0
    from_address: str = "Aftercart <hello@aftercart.local>"
    # Sending: attempts before a message is marked failed, and the backoff between them.
    send_max_attempts: int = 8
    send_backoff_base_s: float = 1.0
    send_backoff_max_s: float = 300.0
    # A sending round (sending.py) claims up to send_batch due messages and delivers up to
    # send_concurrency of them at once (email: over the SMTP pool, so keep smtp_pool_size near it).
    send_batch: int = 100
    send_concurrency: int = 16
    # Rounds in flight at once (each claims and gates its own batch while another's is delivered).
    send_rounds: int = 2
    # How long a claimed message is kept from other senders while it is on its way; if this
    # instance dies, what it held is due again after this. Far above a send's longest (SMTP timeouts).
    send_lease_s: float = 60.0
    # When nothing (or less than a batch) was due: wait this long before looking again.
    send_idle_poll_s: float = 0.05
    # The store's language for customers whose own locale the order doesn't carry ("en", "de_DE",
    # "de-DE"); a language without templates falls back to English. Per store with the flows API.
    default_locale: str = "en"
    # Flows: what a store that set nothing for a flow gets, over the registry's defaults
    # (domain/flows.py), as JSON: AFTERCART_NOTIFIER_FLOW_DEFAULTS='{"order_completed": {"delay_s": 3600}}'.
    # Fields: enabled, delay_s, channel (email | webhook), marketing. Empty: the registry's.
    flow_defaults: dict[str, FlowDefaults] = {}
    # Consent (ntf-consent). Where customers reach the public unsubscribe/preferences pages: the base
    # URL the links in marketing emails point at (this service's public address behind your proxy).
    public_base_url: str = "http://127.0.0.1:8002"
    # Key that signs those links (itsdangerous). None: derived from api_token, so production needs
    # no extra secret — but rotating api_token then voids the links already mailed; set it to keep them.
    link_secret: str | None = None
    # How long an unsubscribe/preferences link stays valid (90 days: mail is read late).
    link_max_age_s: int = 90 * 86_400

    @field_validator("flow_defaults")
    @classmethod
    def _known_flows(cls, value: dict[str, FlowDefaults]) -> dict[str, FlowDefaults]:
        if unknown := sorted(set(value) - set(FLOWS)):  # a typo would silently change nothing
            raise ValueError(f"no such flow: {', '.join(unknown)}")
        return value

    @field_validator("default_locale")
    @classmethod
    def _a_locale(cls, value: str) -> str:
        # A typo ("dee") would silently mean English for every store: refuse it at start-up.
        if parse_locale(value) is None:
            raise ValueError(f"not a locale: {value!r}")
        return value
