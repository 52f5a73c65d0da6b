"""Each service's in-memory repositories, with the same methods as its PostgreSQL adapters (a
contract suite per repository runs against both: tests/unit/<service>/*_contract.py). The fakes
of what every service shares — unit of work, outbox, mailer, WooCommerce REST, clock — are in
shared/testing; these stand here because they speak the services' own domain types."""
