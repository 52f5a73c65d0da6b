#!/usr/bin/env bash
# Prepare a Debian 12 machine for the Aftercart dev stack. Idempotent and quick when
# everything is already there; run from anywhere:  bash deploy/setup.sh
#   - apt: postgresql, maven, a JDK (only if `java` is missing), python3-venv (only if needed),
#     chromium (only if /usr/bin/chromium is missing: the email screenshot test's browser)
#   - <repo>/.venv with `pip install -e '.[dev]'` (redone only when pyproject.toml changes)
#   - Kafka jars resolved from Maven Central (skipped when already resolved)
# Env: PYTHON=python3.11 to pick the interpreter for a new venv.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
REPO="$(pwd)"
VENV="$REPO/.venv"
PYTHON="${PYTHON:-python3}"
say() { printf '[setup] %s\n' "$*"; }
t0=$SECONDS

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

# ---- system packages (each only when missing: apt-get update alone costs seconds)
pkgs=()
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || pkgs+=(postgresql)
command -v mvn >/dev/null || pkgs+=(maven)
command -v java >/dev/null || pkgs+=(default-jdk-headless)
# Debian's Chromium: the notifier's template screenshot test drives it through Playwright
# (executable_path=/usr/bin/chromium), so Playwright never downloads a browser of its own.
[ -x /usr/bin/chromium ] || pkgs+=(chromium fonts-dejavu-core)  # a font, or the screenshots show boxes
if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
  pkgs+=(python3-venv)  # Debian splits venv/ensurepip out of python3
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  say "apt-get install ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q >/dev/null
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null
else
  say "system packages present (postgresql, maven, java, chromium)"
fi

# ---- python venv + editable install
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "need Python >= 3.11 (set PYTHON=...)"; exit 1; }
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.aftercart-pyproject.sha256"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$VENV/bin/aftercart" ]; then
  say "pip install -e '.[dev]'"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # playwright (dev extra) uses Debian's chromium
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
else
  say "venv up to date"
fi

# ---- Kafka jars (Maven Central -> ~/.cache/aftercart/kafka-<version>/lib)
"$VENV/bin/aftercart" stack install | sed 's/^/[setup] /'

say "done in $((SECONDS - t0))s; next: $VENV/bin/aftercart stack up"
