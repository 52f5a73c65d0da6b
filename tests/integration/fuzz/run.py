"""What one fuzz run shares: its scratch namespace, the services' API token, its budget.

AFTERCART_FUZZ_EXAMPLES (default 20): examples per API operation and per stateful run; the
webhook tests take a multiple of it. The test run keeps the default (the fuzz part then takes well
under a minute); a long run: `AFTERCART_FUZZ_EXAMPLES=2000 pytest tests/integration/fuzz`.
A failure prints its reproducer (the request, as curl for schemathesis); hypothesis' example
database (.hypothesis/) replays it first on the next run.
"""
from __future__ import annotations

import os

RUN = os.urandom(3).hex()
SCRATCH = f"fz{RUN}-"  # every store id the schemathesis tests may write starts with it
HOOK_STORE = f"fz{RUN}hook"  # the webhook tests' store: outside SCRATCH, so schemathesis never reaches it
TOKEN = f"fuzz-token-{os.urandom(8).hex()}"  # a real token, not the built-in dev one
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("AFTERCART_FUZZ_EXAMPLES", "20"))
