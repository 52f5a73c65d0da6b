"""In-memory stand-ins for the adapters, with the same interfaces, for unit tests of handlers and
use cases (never patches of our own code): a unit of work, the outbox, a mailer, the WooCommerce
REST client, and a clock tests can move."""
from shared.testing.clock import Clock
from shared.testing.mailer import FakeMailer
from shared.testing.outbox import FakeOutbox
from shared.testing.unit_of_work import InMemoryUnitOfWork
from shared.testing.woo_rest import FakeWooRest

__all__ = ["Clock", "FakeMailer", "FakeOutbox", "FakeWooRest", "InMemoryUnitOfWork"]
