"""Settings of the local dev stack (Kafka, PostgreSQL, SMTP sink) and how to reach it.

Every value can be overridden with an environment variable prefixed AFTERCART_STACK_,
e.g. AFTERCART_STACK_KAFKA_PORT=29092 or AFTERCART_STACK_STATE_DIR=/tmp/stack.
Ports are deliberately off the usual defaults (9092, 5432, 25) so the stack can live next
to a system Kafka/PostgreSQL/MTA.
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVICES: tuple[str, ...] = ("ingest", "notifier", "loyalty", "reviews")
# Databases the stack provisions: one per service, plus "scratch" for the shared library's own
# integration tests (outbox, consumer loop), so they never write into a service's database.
DATABASES: tuple[str, ...] = SERVICES + ("scratch",)


def _default_cache_dir() -> Path:
    # Outside state_dir on purpose: wiping .state must not re-download 45 MB of jars.
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aftercart"


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_STACK_")

    # Resolved: a checkout whose .state links to another one's finds that one's running stack.
    state_dir: Path = (REPO_ROOT / ".state").resolve()
    cache_dir: Path = _default_cache_dir()
    host: str = "127.0.0.1"
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    pg_port: int = 55432
    smtp_port: int = 2525
    mail_http_port: int = 8025
    kafka_version: str = "4.1.1"
    kafka_heap: str = "512m"
    # Extra JVM options for the broker (space-separated). The default keeps HotSpot's JIT at its
    # quick tier (C1): on a 2-core laptop the optimising C2 compiler took 0.1-0.2 of a core away
    # from the services during every burst after a start, and a dev broker's load never needs C2 code
    # (bench/ingest_bench.py: the broker's CPU per event halved). Set "" for the JVM's defaults.
    kafka_jvm_opts: str = "-XX:TieredStopAtLevel=1"

    # Layout under state_dir (data survives `down`/`up`; delete the folder to start clean).
    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def pg_dir(self) -> Path:
        return self.state_dir / "pg"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def kafka_lib_dir(self) -> Path:
        return self.cache_dir / f"kafka-{self.kafka_version}" / "lib"

    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    def service_dsn(self, service: str) -> str:
        """DSN of one service's own database.

        DEV-ONLY credentials: role, password and database are all the service name
        (ingest/ingest@ingest ...). They only exist in the throwaway cluster under state_dir,
        which listens on 127.0.0.1 only. Never reuse this scheme anywhere real.
        """
        if service not in DATABASES:
            raise ValueError(f"unknown service {service!r}; expected one of {DATABASES}")
        return f"postgresql://{service}:{service}@{self.host}:{self.pg_port}/{service}"

    def mail_api_url(self) -> str:
        return f"http://{self.host}:{self.mail_http_port}"


def settings() -> StackSettings:
    """Fresh settings (re-reads the environment each call; cheap)."""
    return StackSettings()


def service_dsn(service: str) -> str:
    """postgresql://<svc>:<svc>@127.0.0.1:<pg_port>/<svc> -- dev-only credentials, see
    StackSettings.service_dsn."""
    return settings().service_dsn(service)


def bootstrap_servers() -> str:
    """Kafka bootstrap address of the local stack, e.g. "127.0.0.1:19092"."""
    return settings().bootstrap_servers()
