#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then integration and end-to-end tests against the real
# local stack (started by the test session if it isn't running, and stopped again afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
