"""The `data` of every customers.v1 event (producer: ingest). Consumers import these models.

customer.registered / customer.updated carry the customer as ingest knows it. WooCommerce fires
its customer webhooks for every WordPress role, so `role` is carried and consumers that only care
about shoppers filter on `role == "customer"`.
customer.linked says "the guest history under from_key (email key) belongs to to_key (id key)":
every service merges the two. customer.erased says personal data about `key` must go everywhere.
"""
from __future__ import annotations

from shared.events.orders import EventData, UtcDateTime


class CustomerEvent(EventData):
    """customer.registered and customer.updated."""
    store_id: str
    customer_id: int
    key: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    locale: str | None = None
    is_paying_customer: bool = False
    billing_country: str | None = None
    date_created: UtcDateTime | None = None  # lets consumers tell a new sign-up from an old account
    # The customer's meta entries that look like a consent plugin's (as on orders); None: none found.
    consent_meta: dict[str, str] | None = None


class CustomerLinked(EventData):
    store_id: str
    from_key: str  # "<store>:e<sha256(email)>": where guest orders were keyed
    to_key: str  # "<store>:c<id>": the registered customer


class CustomerErased(EventData):
    store_id: str
    customer_id: int
    key: str
