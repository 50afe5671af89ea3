"""A throwaway PostgreSQL server for the team-mode tests (shared/team.md).

Why our own fixture and not pytest-postgresql: initdb refuses to run as root (CI runs as root), and
pytest itself cannot run as the postgres user (it cannot read the Python under /root). So when we
are root the server's programs run through `runuser -u postgres`, on a data dir owned by postgres;
as an ordinary user they simply run as that user.

Authentication is SCRAM everywhere (`initdb -A scram-sha-256`, a random superuser password handed
over in a 0600 file that is deleted after initdb): the tests then reach the server exactly as the
app will - password over TCP on 127.0.0.1 - and no test can pass because of a `trust` line. The unix
socket goes to a private directory (`-k`) so nothing touches /var/run/postgresql or a system
cluster. fsync is off: the cluster is thrown away, and CREATE DATABASE per test stays cheap.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
TEMPLATE_DB = "kefu_template"  # per-test databases are copies of it (later slices load the schema here)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_psycopg():
    """psycopg, or skip the module (a developer machine) / fail it (CI=true) with the reason."""
    import pytest

    try:
        import psycopg
    except ImportError as e:
        message = f"the team tests need psycopg ({e}): pip install -e .[test] (bash .ci/install does)"
        if in_ci():
            pytest.fail(message + " - CI=true: failing instead of skipping", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return psycopg


class PgUnavailable(RuntimeError):
    """The server cannot be started here (PostgreSQL missing, no postgres user, initdb failed ...)."""


def find_bindir() -> Path:
    """PostgreSQL's server programs. Debian keeps them off PATH under /usr/lib/postgresql/N/bin and
    pg_config (libpq-dev / postgresql-server-dev) may be missing: then the newest such folder wins."""
    candidates: list[Path] = []
    env = os.environ.get("KEFU_PG_BINDIR")
    if env:
        candidates.append(Path(env))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> int:
        name = Path(path).parent.name
        return int(name) if name.isdigit() else -1

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl) not found - install them: "
        "apt-get install postgresql (bash .ci/install does), or set KEFU_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bindir: Path
    base: Path  # holds data/, sock/, server.log; removed on stop
    port: int
    password: str  # the superuser's
    run_as: list[str] = field(default_factory=list)  # ["runuser", "-u", "postgres", "--"] when root
    host: str = "127.0.0.1"
    initdb_seconds: float = 0.0  # creating the cluster (CPU-bound: 0.5 s idle, 2+ s on a busy 2-core box)
    start_seconds: float = 0.0  # pg_ctl start until the first SCRAM login over TCP succeeded

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_path(self) -> Path:
        return self.base / "server.log"

    def conninfo(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        """A libpq connection string over TCP with password (SCRAM) authentication."""
        from psycopg.conninfo import make_conninfo

        pw = self.password if password is None and user == SUPERUSER else password
        return make_conninfo(host=self.host, port=self.port, dbname=dbname, user=user, password=pw or "",
                             connect_timeout=10)

    def connect(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None,
                autocommit: bool = True):
        import psycopg

        return psycopg.connect(self.conninfo(dbname, user, password), autocommit=autocommit)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _pg_ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args],
                              capture_output=True, text=True, timeout=timeout, cwd=self.base)

    def stop(self) -> None:
        """Fast shutdown (aborts open transactions, disconnects clients), then remove every file."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30", timeout=40)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PgUnavailable("running as root and there is no 'postgres' user to run initdb as "
                            "(apt-get install postgresql creates it)") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("running as root and runuser (util-linux) is missing")
    return [runuser, "-u", SUPERUSER, "--"]


def start_server(options: dict[str, str] | None = None, attempts: int = 3) -> PgServer:
    """initdb a fresh cluster in a temp dir and start it on a free 127.0.0.1 port.
    `options` are extra server settings (`-c name=value`); the caller must `stop()` the server."""
    bindir = find_bindir()
    run_as = _run_as()
    base = Path(tempfile.mkdtemp(prefix="kefu-pg-"))
    password = secrets.token_urlsafe(24)
    server = PgServer(bindir=bindir, base=base, port=0, password=password, run_as=run_as)
    try:
        sock = base / "sock"
        sock.mkdir(mode=0o700)
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if run_as:
            owner = pwd.getpwnam(SUPERUSER)
            for path in (base, sock, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        began = time.monotonic()
        init = subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER,
             "-A", "scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale", "--no-sync",
             "--no-instructions"],
            capture_output=True, text=True, timeout=120, cwd=base)
        server.initdb_seconds = time.monotonic() - began
        pwfile.unlink()
        if init.returncode != 0:
            raise PgUnavailable(f"initdb failed ({init.returncode}): {(init.stderr or init.stdout).strip()[-1500:]}")
        settings = {"fsync": "off", "full_page_writes": "off", "listen_addresses": "127.0.0.1",
                    "unix_socket_directories": str(sock), **(options or {})}
        last = ""
        for _ in range(attempts):  # a free port can be taken between our probe and the server's bind
            server.port = free_port()
            began = time.monotonic()
            opts = " ".join(f"-c {k}={v}" for k, v in {**settings, "port": str(server.port)}.items())
            started = server._pg_ctl("start", "-w", "-t", "30", "-l", str(server.log_path), "-o", opts, timeout=40)
            if started.returncode == 0:
                _wait_ready(server)
                server.start_seconds = time.monotonic() - began
                return server
            last = f"{started.stderr.strip()}\n{server.log_tail()}"
        raise PgUnavailable(f"pg_ctl start failed {attempts} times: {last[-2000:]}")
    except BaseException:
        server.stop()
        raise


def _wait_ready(server: PgServer, timeout: float = 10) -> None:
    """pg_ctl -w already waited; one real SCRAM login over TCP proves the port and the password."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as e:
            if time.monotonic() > deadline:
                raise PgUnavailable(f"server started but refuses connections: {e}\n{server.log_tail()}") from e
            time.sleep(0.05)


@dataclass
class PgDatabase:
    """One test's own database on the session's server (a copy of TEMPLATE_DB)."""

    server: PgServer
    name: str
    roles: list[str] = field(default_factory=list)

    def conninfo(self, user: str = SUPERUSER, password: str | None = None) -> str:
        return self.server.conninfo(self.name, user, password)

    def connect(self, user: str = SUPERUSER, password: str | None = None, autocommit: bool = True):
        return self.server.connect(self.name, user, password, autocommit=autocommit)

    def create_login_role(self, prefix: str = "agent") -> tuple[str, str]:
        """A LOGIN role with a random SCRAM password, allowed to connect to this database.
        Roles are cluster-wide, so the name is unique and the role is dropped after the test."""
        from psycopg import sql

        name = f"{prefix}_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(18)
        with self.server.connect() as conn:
            # the password goes as a literal (CREATE ROLE takes no parameters); password_encryption
            # is scram-sha-256 by default in 15, so only the SCRAM verifier is stored
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(self.name), sql.Identifier(name)))
        self.roles.append(name)
        return name, password

    def drop(self) -> None:
        from psycopg import sql

        with self.server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            for role in self.roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def prepare_template(server: PgServer) -> None:
    with server.connect() as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")


def create_database(server: PgServer, template: str = TEMPLATE_DB) -> PgDatabase:
    from psycopg import sql

    name = f"t_{secrets.token_hex(6)}"
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return PgDatabase(server, name)
