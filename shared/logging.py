"""Structured JSON logs (structlog). Never log secrets or personal data: log ids, types, keys."""
from __future__ import annotations

import logging
import sys

import structlog


def setup_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(stream=sys.stdout, format="%(message)s", level=level.upper())
    # Library loggers are chatty at INFO (aiokafka prints every rebalance).
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO, and a URL may carry credentials (an OAuth 1.0a signed
    # URL holds the consumer key): its warnings only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str):
    return structlog.get_logger(name)
