#!/usr/bin/env bash
# Sets up everything on a fresh machine and runs the whole system locally:
# Python deps, Kafka jars, PostgreSQL → the stack (Kafka, PostgreSQL, SMTP sink) → the four
# services and the store simulator → a demo store's day of signed webhooks.
set -euo pipefail
cd "$(dirname "$0")/.."
# Development mode: on local defaults, with the services' built-in API tokens (refused otherwise).
export AFTERCART_ENV="${AFTERCART_ENV:-development}"
bash deploy/setup.sh
.venv/bin/aftercart stack up
.venv/bin/aftercart services up
.venv/bin/aftercart demo
.venv/bin/aftercart where
