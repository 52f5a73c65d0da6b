"""A WooCommerce store simulator for Aftercart's demo and tests.

It keeps a store in memory (:mod:`.store`), serves the REST API subset Aftercart calls
(:mod:`.rest_api`), and delivers webhooks byte-for-byte like WooCommerce (:mod:`.webhooks`,
:mod:`.php_json`, :mod:`.signing`), coalesced like Action Scheduler. :mod:`.scenario` plays
a small store's day; ``python -m deploy.local.storesim`` runs it (see :mod:`.__main__`).
Facts come from /work/shared/woocommerce/webhooks.md and the payloads copied into
tests/fixtures/woocommerce/.
"""
from .clock import SimClock
from .php_json import php_json_encode
from .rest_api import create_app
from .scenario import DaySummary, play_day
from .signing import sign, verify
from .store import Store, WCError, Webhook
from .webhooks import Delivery, Queue, WebhookSender, make_sender_factory

__all__ = ["SimClock", "Store", "WCError", "Webhook", "create_app", "php_json_encode", "sign",
           "verify", "Delivery", "Queue", "WebhookSender", "make_sender_factory", "DaySummary",
           "play_day"]
