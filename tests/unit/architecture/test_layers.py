"""The house rules, checked on the code itself (no I/O, nothing imported):

- SQL text lives only in adapters/ and migrations/ of a service, and in shared/db/ (the shared
  adapters: pool, migrations, outbox, processed markers);
- imports run one way: no adapter imports a handler, a use case, an entrypoint or bootstrap; no
  domain module imports an adapter (or a library that does I/O); shared/ never imports services/.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "notifier", "loyalty", "reviews")
# A statement keyword followed by what only SQL puts there.
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX)\b"
                 r"|ALTER\s+TABLE\b|pg_(try_)?advisory)", re.IGNORECASE)
IO_LIBRARIES = ("asyncpg", "aiokafka", "aiosmtplib", "httpx", "faust", "fastapi")


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts)


def _strings(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.STRING]


def _sql_allowed(rel: Path) -> bool:
    parts = rel.parts
    if parts[0] == "services":
        return len(parts) > 2 and parts[2] in ("adapters", "migrations")
    return parts[:2] == ("shared", "db")


def test_sql_only_in_adapters_and_migrations():
    found = []
    for path in _python_files("services", "shared"):
        rel = path.relative_to(ROOT)
        if _sql_allowed(rel):
            continue
        for line, text in _strings(path):
            if SQL.search(text) and not text.lstrip("rbfuRBFU").startswith(('"""', "'''")):  # docstrings may say "SELECT"
                found.append(f"{rel}:{line}")
    assert found == [], "SQL outside adapters/ and migrations/: " + ", ".join(found)


def test_the_sql_check_sees_sql(tmp_path):
    # The rule above must be able to fail: the detector finds statements in ordinary strings.
    sample = tmp_path / "x.py"
    sample.write_text('Q = "SELECT * FROM ledger WHERE customer_key = $1"\nD = """SELECT in a docstring"""\n')
    hits = [s for _, s in _strings(sample) if SQL.search(s) and not s.startswith('"""')]
    assert hits == ['"SELECT * FROM ledger WHERE customer_key = $1"']


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _room(module: str, service: str) -> str | None:
    """Which room of `service` a dotted module name is in, if any."""
    prefix = f"services.{service}."
    if not module.startswith(prefix):
        return None
    first = module[len(prefix):].split(".")[0]
    return first if first in ("adapters", "domain", "entrypoints", "migrations") else "use_case"


@pytest.mark.parametrize("service", SERVICES)
def test_adapters_never_import_upwards(service):
    bad = []
    for path in _python_files(f"services/{service}/adapters"):
        for module in _imports(path):
            room = _room(module, service)
            if room in ("use_case", "entrypoints"):  # handlers, use-case modules, bootstrap, config is fine
                if module.split(".")[2] in ("config", "metrics"):
                    continue
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


@pytest.mark.parametrize("service", SERVICES)
def test_domain_imports_no_adapter_and_no_io(service):
    bad = []
    for path in _python_files(f"services/{service}/domain"):
        for module in _imports(path):
            if _room(module, service) in ("adapters", "entrypoints", "use_case") and \
                    module.split(".")[2] not in ("domain",):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
            if module.split(".")[0] in IO_LIBRARIES:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


def test_shared_never_imports_services_at_import_time():
    bad = []
    for path in _python_files("shared"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: a TYPE_CHECKING block is not executed
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [f"{path.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] == "services"]
    assert bad == []


def test_the_import_check_sees_imports(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from services.ingest.pipeline import ingest\nimport services.ingest.handlers\n")
    assert {"services.ingest.pipeline", "services.ingest.handlers"} <= _imports(sample)
    assert _room("services.ingest.pipeline", "ingest") == "use_case"
    assert _room("services.ingest.adapters.stores", "ingest") == "adapters"
