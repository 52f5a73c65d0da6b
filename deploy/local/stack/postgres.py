"""Private PostgreSQL cluster for the local stack (not the distro's system cluster).

Binaries come from Debian's `postgresql` package (installed on demand). The cluster lives in
<state_dir>/pg/data, listens on 127.0.0.1:<pg_port> only, keeps its unix socket in
<state_dir>/pg/run, and has one role + one database per service (dev-only credentials,
see StackSettings.service_dsn). Postgres refuses to run as root, so when we are root the
cluster belongs to, and runs as, the `postgres` OS user.
"""
from __future__ import annotations

import asyncio
import getpass
import glob
import os
import pwd
import subprocess
import time
from pathlib import Path

from deploy.local.stack.config import DATABASES, StackSettings
from deploy.local.stack.procs import Component, StackError, log_file, port_open


def os_user() -> str:
    return "postgres" if os.geteuid() == 0 else getpass.getuser()


def data_dir(s: StackSettings) -> Path:
    return s.pg_dir / "data"


def socket_dir(s: StackSettings) -> Path:
    return s.pg_dir / "run"


def bin_dir(s: StackSettings) -> Path:
    """Binaries matching an existing cluster's major version, else the newest installed."""
    version_file = data_dir(s) / "PG_VERSION"
    if version_file.exists():
        major = version_file.read_text().strip()
        path = Path(f"/usr/lib/postgresql/{major}/bin")
        if not (path / "postgres").exists():
            raise StackError(f"cluster in {data_dir(s)} is PostgreSQL {major}, but {path} is "
                             f"missing; install postgresql-{major} or delete the data dir")
        return path
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise StackError("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def ensure_installed() -> None:
    if glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        return
    if os.geteuid() != 0:
        raise StackError("PostgreSQL is not installed; run `sudo bash deploy/setup.sh`")
    print("  installing PostgreSQL from Debian packages (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]):
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def _run_as_pg(s: StackSettings, argv: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        kw.update(user="postgres", group="postgres", extra_groups=[])
    return subprocess.run(argv, capture_output=True, text=True, cwd=s.pg_dir, **kw)


def _own(path: Path, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    path.chmod(mode)


def _check_traversable(path: Path) -> None:
    # The postgres user must be able to walk down to the data dir (e.g. /root is 0700).
    if os.geteuid() != 0:
        return
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & 0o001:
            raise StackError(f"{parent} is not traversable by the postgres user; "
                             f"`chmod o+x {parent}` or set AFTERCART_STACK_STATE_DIR elsewhere")


def prepare(s: StackSettings) -> None:
    """Binaries installed, directories owned by the postgres user, cluster initialised once."""
    ensure_installed()
    s.state_dir.mkdir(parents=True, exist_ok=True)
    _check_traversable(s.pg_dir)
    _own(s.pg_dir, 0o755)
    _own(socket_dir(s), 0o755)
    if (data_dir(s) / "PG_VERSION").exists():
        return
    # peer auth on the socket (only the cluster's OS user is superuser), scram over TCP.
    res = _run_as_pg(s, [str(bin_dir(s) / "initdb"), "-D", str(data_dir(s)), "-U", os_user(),
                         "-E", "UTF8", "--no-locale", "--auth-local=peer",
                         "--auth-host=scram-sha-256"])
    with open(log_file(s, "postgres"), "a") as log:
        log.write(f"\n===== initdb rc={res.returncode}\n{res.stdout[-4000:]}{res.stderr[-4000:]}")
    if res.returncode != 0:
        raise StackError(f"initdb failed; see {log_file(s, 'postgres')}")


def _stopper(s: StackSettings):
    def stop(_pid: int) -> None:
        # fast = roll back open transactions and shut down cleanly (no crash recovery later).
        res = _run_as_pg(s, [str(bin_dir(s) / "pg_ctl"), "stop", "-D", str(data_dir(s)),
                             "-m", "fast", "-w", "-t", "30"])
        if res.returncode != 0:
            raise StackError(res.stderr.strip() or res.stdout.strip())
    return stop


def component(s: StackSettings) -> Component:
    # Settings on the command line win over postgresql.conf, so a changed port applies on
    # the next start without rewriting config files. fsync etc. keep their safe defaults.
    try:
        pg_bin = bin_dir(s)
    except StackError:  # not installed yet: fine for status/down, prepare() installs it
        pg_bin = Path("/usr/lib/postgresql/missing/bin")
    argv = [str(pg_bin / "postgres"), "-D", str(data_dir(s)),
            "-c", f"listen_addresses={s.host}", "-c", f"port={s.pg_port}",
            "-c", f"unix_socket_directories={socket_dir(s)}",
            "-c", "log_line_prefix=%m [%p] %q%u@%d ", "-c", "logging_collector=off"]
    return Component(name="postgres", argv=argv, marker=f"-D {data_dir(s)}",
                     ports={"pg_port": s.pg_port}, address=f"{s.host}:{s.pg_port}",
                     user=os_user() if os.geteuid() == 0 else None, cwd=s.pg_dir,
                     stop=_stopper(s))


def _provision_sql() -> str:
    stmts = []
    for svc in DATABASES:
        stmts.append(f"""
SELECT 'CREATE ROLE {svc} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{svc}')
\\gexec
ALTER ROLE {svc} LOGIN PASSWORD '{svc}';
SELECT 'CREATE DATABASE {svc} OWNER {svc}'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{svc}')
\\gexec
REVOKE ALL ON DATABASE {svc} FROM PUBLIC;
GRANT ALL ON DATABASE {svc} TO {svc};""")
    return "\n".join(stmts)


async def wait_ready(s: StackSettings, timeout: float = 60.0) -> None:
    """Accepting connections, service roles/databases provisioned, each DSN logs in."""
    import asyncpg

    deadline = time.monotonic() + timeout
    isready = [str(bin_dir(s) / "pg_isready"), "-q", "-h", str(socket_dir(s)),
               "-p", str(s.pg_port), "-U", os_user(), "-d", "postgres"]
    while _run_as_pg(s, isready).returncode != 0 or not port_open(s.host, s.pg_port):
        if time.monotonic() > deadline:
            raise StackError(f"PostgreSQL not ready after {timeout:.0f}s; "
                             f"see {log_file(s, 'postgres')}")
        await asyncio.sleep(0.2)
    psql = [str(bin_dir(s) / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
            str(socket_dir(s)), "-p", str(s.pg_port), "-U", os_user(), "-d", "postgres"]
    res = _run_as_pg(s, psql, input=_provision_sql())
    if res.returncode != 0:
        raise StackError(f"provisioning service databases failed:\n{res.stderr}")
    for svc in DATABASES:
        conn = await asyncpg.connect(s.service_dsn(svc), timeout=10)
        await conn.close()

