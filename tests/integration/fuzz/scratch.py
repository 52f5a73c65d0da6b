"""Keeps the fuzz on scratch stores: every store id a fuzzed request could write to is moved into
this run's namespace (run.SCRATCH) before it is sent, so no request touches another test's
store, the demo's, or a real one. A valid id stays valid and an invalid one stays invalid, so what
schemathesis meant as a positive or a negative case is still one."""
from __future__ import annotations

import re

from schemathesis import Case

from tests.integration.fuzz.run import SCRATCH

STORE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")  # services/ingest/entrypoints/admin.py's StoreIn


def scratch_id(value: object, *, pattern_checked: bool) -> object:
    """`value` moved into the scratch namespace. `pattern_checked`: the API refuses an id that
    doesn't match STORE_ID before writing anything (a body's id); a path declares no pattern."""
    if not isinstance(value, str) or value.startswith(SCRATCH):
        return value
    if not pattern_checked:
        return SCRATCH + value
    if STORE_ID.fullmatch(value):
        return SCRATCH + value[:32 - len(SCRATCH)]
    return value  # refused as it is: left as generated, still a negative case


def to_scratch(case: Case) -> Case:
    """Moves the case's store ids (path parameter, request body) into the scratch namespace."""
    if case.path_parameters and "store_id" in case.path_parameters:
        case.path_parameters["store_id"] = scratch_id(case.path_parameters["store_id"], pattern_checked=False)
    if isinstance(case.body, dict) and "store_id" in case.body:
        case.body["store_id"] = scratch_id(case.body["store_id"], pattern_checked=True)
    return case
