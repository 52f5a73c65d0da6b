"""`aftercart services up` starts the consumers (notifier, loyalty, reviews) under `nice`, ingest
at normal priority: a consumer backlog must not slow the front door on a small machine."""
from __future__ import annotations

from deploy.local import services
from deploy.local.stack.config import StackSettings


def test_consumers_run_niced_and_ingest_does_not():
    s = StackSettings()
    argv = {name: services.component(s, name).argv for name in services.SERVICES}
    assert services.CONSUMER_NICE > 0 and "nice" not in argv["ingest"]
    for name in ("notifier", "loyalty", "reviews"):
        assert argv[name][:3] == ["nice", "-n", str(services.CONSUMER_NICE)]
        # then the same serving command as ingest's, for this service's app
        assert argv[name][3:6] == argv["ingest"][:3] == [argv["ingest"][0], "-m", "shared.service.serve"]
        assert argv[name][6] == f"services.{name}.entrypoints.api:create_app"
