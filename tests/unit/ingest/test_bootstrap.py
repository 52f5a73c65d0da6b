"""bootstrap wires ingest from its settings: the group commit's lanes and batch size, the workers
the runtime starts (the relay, the secrets sweep, the held refunds' details and the bodies'
retention always, the reconcile schedule unless disabled), and the app's `state.service`. Nothing
is connected: the app is built, never started."""
from __future__ import annotations

from services.ingest.bootstrap import bootstrap
from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app


def test_the_runtime_gets_the_relay_the_secrets_sweep_and_the_reconcile_schedule_unless_disabled():
    assert list(bootstrap(IngestSettings(environment="development")).runtime.workers) == [
        "ingest-relay", "ingest-secrets", "ingest-refund-details", "ingest-retention",
        "ingest-reconcile"]
    assert list(bootstrap(IngestSettings(environment="development", reconcile_interval_s=0)).runtime.workers) == [
        "ingest-relay", "ingest-secrets", "ingest-refund-details", "ingest-retention"]


def test_the_group_commit_follows_the_settings_and_hands_its_connections_back_at_stop():
    ingest = bootstrap(IngestSettings(environment="development", commit_lanes=3, commit_batch_max=64))
    assert (ingest.commit.lanes, ingest.commit.max_batch) == (3, 64)
    assert ingest.commit.close in ingest.runtime.on_stop


def test_the_app_carries_the_bootstrapped_service_for_its_routes():
    app = create_app(IngestSettings(environment="development"))
    assert app.state.service.settings.port == 8001 and app.state.service.runtime.pool is None
