"""schemathesis against every service's OpenAPI, over HTTP to the services running as processes:
each operation with its examples, its coverage cases (boundaries, missing and wrong-typed
parameters, no token) and random fuzzing, then ingest's operations chained by their links
(POST /stores → GET /stores, rotate-secret, …). Every answer must be no 5xx and exactly what the
document says: a documented status code, a body matching its model, the declared content type.

One check stays off: positive_data_acceptance (a schema-valid request must not get a 4xx). The
document cannot state every rule the APIs enforce — a signature over the raw body, an order id
that needs a store id, a NUL character storage refuses — and those documented 4xx are correct
answers. Every other check schemathesis has runs, the auth ones included (a route that answers
without its token fails).
"""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis import Case

from tests.integration.fuzz import apps
from tests.integration.fuzz.run import AUTH, EXAMPLES, TOKEN
from tests.integration.fuzz.scratch import to_scratch

FACTORIES = {"ingest": apps.ingest, "notifier": apps.notifier, "loyalty": apps.loyalty, "reviews": apps.reviews}


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"enabled": False}},
        "auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}},
        "generation": {"max-examples": EXAMPLES},
        "phases": {"stateful": {"max-steps": 8}},
        "suppress-health-check": ["all"],
    })


def _schema(name: str):
    # The document the process serves, built from the same app factory without starting it
    # (test_served_documents_are_the_ones_fuzzed checks they are equal).
    return schemathesis.openapi.from_dict(FACTORIES[name]().openapi(), config=_config())


SCHEMAS = {name: _schema(name) for name in FACTORIES}
ingest, notifier, loyalty, reviews = (SCHEMAS[n] for n in FACTORIES)
SETTINGS = hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck),
                               max_examples=EXAMPLES)


def _exercise(case: Case, service) -> None:
    to_scratch(case)
    case.call_and_validate(base_url=service.url, headers=AUTH, timeout=10)
    assert service.alive(), service.log_tail()


@ingest.parametrize()
@SETTINGS
def test_ingest_api(case, fuzzed):
    _exercise(case, fuzzed["ingest"])


@notifier.parametrize()
@SETTINGS
def test_notifier_api(case, fuzzed):
    _exercise(case, fuzzed["notifier"])


@loyalty.parametrize()
@SETTINGS
def test_loyalty_api(case, fuzzed):
    _exercise(case, fuzzed["loyalty"])


@reviews.parametrize()
@SETTINGS
def test_reviews_api(case, fuzzed):
    _exercise(case, fuzzed["reviews"])


def test_ingest_api_stateful(fuzzed):
    """Sequences along the links schemathesis finds in ingest's document: a store registered by
    POST /stores is then listed, rotated, re-registered, its orders looked up and replayed."""
    url = fuzzed["ingest"].url

    class Links(ingest.as_state_machine()):
        def before_call(self, case: Case) -> None:
            to_scratch(case)

        def get_call_kwargs(self, case: Case) -> dict:
            return {"base_url": url, "headers": AUTH, "timeout": 10}

    Links.run(settings=hypothesis.settings(SETTINGS, stateful_step_count=8))
    assert fuzzed["ingest"].alive(), fuzzed["ingest"].log_tail()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_served_documents_are_the_ones_fuzzed(fuzzed, name):
    import httpx

    served = httpx.get(f"{fuzzed[name].url}/openapi.json", timeout=10).json()
    assert served == FACTORIES[name]().openapi()
