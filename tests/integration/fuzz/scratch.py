"""Keeps the fuzz on scratch data: every store id a fuzzed request could write to is moved into
this run's namespace (run.SCRATCH) as the case is generated, so no request touches another
test's store, the demo's, or a real one; an outbox seq (the parked rows' replay and discard) is
moved above any seq the outbox will ever reach, so those answer their 404 and never release or
drop another test's row. A valid value stays valid and an invalid one stays invalid, so what
schemathesis meant as a positive or a negative case is still one. `assert_scratch` is the safety
net each call goes through."""
from __future__ import annotations

import re

from pydantic import TypeAdapter, ValidationError
from schemathesis import Case, HookContext
from schemathesis.schemas import BaseSchema

from tests.integration.fuzz.run import SCRATCH

STORE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")  # services/ingest/entrypoints/admin.py's StoreIn
FAR_SEQ = 2**62  # a bigserial from 1 needs centuries of any traffic to get here; seqs stay below 2^63
_INT = TypeAdapter(int)


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


def scratch_seq(value: object) -> object:
    """A seq the API would read as 1 … FAR_SEQ-1 (as FastAPI reads a path: "7" and " 7" too)
    moved to FAR_SEQ or above, of the same type; anything else left as it is."""
    try:
        n = _INT.validate_python(value)
    except ValidationError:
        return value
    if not 1 <= n < FAR_SEQ:
        return value
    return FAR_SEQ + n if isinstance(value, int) else str(FAR_SEQ + n)


def _moved(container, pattern_checked: bool):
    """`container` with its store id moved (a new dict), or itself when there's nothing to move."""
    if not isinstance(container, dict) or "store_id" not in container:
        return container
    moved = scratch_id(container["store_id"], pattern_checked=pattern_checked)
    return container if moved == container["store_id"] else {**container, "store_id": moved}


def _path(path_parameters):
    moved = _moved(path_parameters, pattern_checked=False)
    if isinstance(moved, dict) and "seq" in moved and scratch_seq(moved["seq"]) != moved["seq"]:
        moved = {**moved, "seq": scratch_seq(moved["seq"])}
    return moved


def _body(body):
    return _moved(body, pattern_checked=True)


def to_scratch(case: Case) -> Case:
    """The case's store ids moved into the namespace (for values a link merged into a case)."""
    case.path_parameters, case.body = _path(case.path_parameters), _body(case.body)
    return case


def keep_on_scratch(schema: BaseSchema) -> BaseSchema:
    """Hooks on `schema` that generate scratch store ids. The container hooks act inside the
    strategies (random and stateful cases, the values links supply included), before a case
    exists: a change to an existing case counts as the caller's override, and the stateful checks
    would then take a generated id for one a link supplied. `map_case` covers the cases no
    strategy makes (examples, coverage); it changes nothing the container hooks already moved."""
    def map_path_parameters(context: HookContext, path_parameters):
        return _path(path_parameters)

    def map_body(context: HookContext, body):
        return _body(body)

    def map_case(context: HookContext, case: Case) -> Case:
        path, body = _path(case.path_parameters), _body(case.body)
        if path is not case.path_parameters:
            case.path_parameters = path
        if body is not case.body:
            case.body = body
        return case

    for hook in (map_path_parameters, map_body, map_case):
        schema.hook(hook)
    return schema


def assert_scratch(case: Case) -> None:
    """Fails (before anything is sent) a case that could write to a store outside the scratch namespace."""
    path_id = (case.path_parameters or {}).get("store_id")
    body_id = case.body.get("store_id") if isinstance(case.body, dict) else None
    assert not isinstance(path_id, str) or path_id.startswith(SCRATCH), case.path_parameters
    assert not (isinstance(body_id, str) and STORE_ID.fullmatch(body_id)) or body_id.startswith(SCRATCH), case.body
    seq = (case.path_parameters or {}).get("seq")
    assert scratch_seq(seq) == seq, case.path_parameters
