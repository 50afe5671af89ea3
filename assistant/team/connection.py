"""Joining a team server: `kefu team connect / status / disconnect` (GUI-free).

The URL names the agent's own login role, `postgresql://kefu_<team>_<name>@host:port/db`, with at
most `?sslmode=...&sslrootcert=...` (default `prefer`; a shop's LAN server wants `verify-full` with
the shop's CA certificate, which checks the server's name as well as its certificate; see README).
It never carries a password: that is asked (getpass, or one line on stdin for scripts),
checked by logging in, and then kept only in the OS keyring (service "kefu-assistant", user
"role@host:port"). The local settings hold the server without user or password (`team.server`)
and the role (`team.role`). Nothing is stored unless the login, the schema check and the keyring
all succeed; where no real keyring exists (a headless box, CI) connecting is refused rather than
keeping the password in plain text.

open_client() gives the sync client (assistant/team/sync.py) for the stored connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ..core import outbox, settings
from ..errors import KnownError, ValidationError

SERVICE = "kefu-assistant"  # the keyring service name
CONNECT_TIMEOUT_S = 5
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
INSTALL_HINT = "pip install 'psycopg[binary]>=3.2' 'keyring>=24'"  # dependencies; missing only in a broken install
_ROLE_RE = re.compile(r"^kefu_([a-z][a-z0-9]{0,19})_([a-z][a-z0-9_]{0,29})$")  # schema.agent_role()


TEAM_SETTINGS = ("team.server", "team.role", "team.kind", "team.agents")


class TeamError(KnownError):
    """Connecting to / reading the team server failed; nothing was stored."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    dbname: str
    role: str
    sslmode: str = "prefer"
    sslrootcert: str = ""  # the shop's CA certificate (a file path), for sslmode=verify-full

    @property
    def server(self) -> str:
        """The `team.server` setting: no user, no password."""
        url = f"postgresql://{_host_part(self.host)}:{self.port}/{quote(self.dbname, safe='')}?sslmode={self.sslmode}"
        return url + (f"&sslrootcert={quote(self.sslrootcert, safe='/')}" if self.sslrootcert else "")

    @property
    def keyring_user(self) -> str:
        return f"{self.role}@{_host_part(self.host)}:{self.port}"

    @property
    def team(self) -> str:
        return _ROLE_RE.match(self.role).group(1)  # type: ignore[union-attr] - checked by parse_url


@dataclass
class Status:
    server: str
    role: str
    team: str
    kind: str  # agent | supervisor
    shops: list[str] = field(default_factory=list)
    schema_version: int = 0
    shop_ids: dict[str, str] = field(default_factory=dict)  # name -> server uuid


def _host_part(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _bad_url(zh: str, en: str) -> ValidationError:
    return ValidationError(f"团队服务器地址无效：{zh}", f"Invalid team server URL: {en}")


def parse_url(url: str, role: str | None = None) -> Target:
    """postgresql://ROLE@HOST[:PORT]/DB[?sslmode=MODE] -> Target. A password in the URL is refused:
    it would sit in the shell history and the process list."""

    def check_role(user: str) -> None:
        if not _ROLE_RE.match(user):
            raise _bad_url("需要登录角色，例如 postgresql://kefu_团队_账号@服务器/数据库",
                           "it needs your login role, e.g. postgresql://kefu_TEAM_NAME@host/db")

    return Target(*split_url(url, check_role, role))


def split_url(url: str, check_user, user: str | None = None) -> tuple[str, int, str, str, str, str]:
    """The checks every team URL gets (agent's and admin's): scheme, port, no password, host, user
    (`check_user(user)` raises for a bad one), database, only `sslmode` and `sslrootcert` (an
    existing file, made absolute) as parameters. Returns (host, port, dbname, user, sslmode, rootcert)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres"):
        raise _bad_url("应以 postgresql:// 开头", "it must start with postgresql://")
    try:
        port = parts.port or 5432
    except ValueError:
        raise _bad_url("端口无效", "the port is not a number from 1 to 65535") from None
    if parts.password is not None:
        raise _bad_url("地址里不能写密码（程序会询问密码）",
                       "do not put the password in the URL (kefu asks for it)")
    if not parts.hostname:
        raise _bad_url("缺少服务器名", "the host is missing")
    user = unquote(user or parts.username or "")
    check_user(user)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise _bad_url("缺少数据库名", "the database name is missing")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - {"sslmode", "sslrootcert"})
    if unknown:
        raise _bad_url(f"不支持的参数 {', '.join(unknown)}", f"unsupported parameter(s) {', '.join(unknown)}")
    sslmode = query.get("sslmode", "prefer")
    if sslmode not in SSLMODES:
        raise _bad_url(f"sslmode 可选值：{', '.join(SSLMODES)}", f"sslmode must be one of {', '.join(SSLMODES)}")
    rootcert = query.get("sslrootcert", "")
    if rootcert:
        from pathlib import Path

        path = Path(rootcert).expanduser()
        if not path.is_file():
            raise _bad_url(f"找不到证书文件 {rootcert}", f"the certificate file {rootcert} does not exist")
        rootcert = str(path.resolve())  # the panel does not run in the shell's folder
    return parts.hostname, port, dbname, user, sslmode, rootcert


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise TeamError(f"团队模式所需的组件缺失，请重新安装：{INSTALL_HINT}",
                        f"team mode's packages are missing (a broken install?): {INSTALL_HINT}") from None


def usable_keyring():
    """The keyring backend, or TeamError when none would keep the password safely: keyring's null
    backend, an empty chainer, or a plain-text one (priority < 1, e.g. keyrings.alt on a headless
    box) that the user did not name explicitly (PYTHON_KEYRING_BACKEND or keyring's config file)."""
    import os

    keyring = _require("keyring")
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    refused = isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends)
    if not refused and backend.priority < 1:
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        explicit = os.environ.get("PYTHON_KEYRING_BACKEND", "")
        if not explicit:
            try:
                configured = keyring.core.load_config()
            except Exception:  # noqa: BLE001 - a broken config file is no opt-in
                configured = None
            explicit = f"{type(configured).__module__}.{type(configured).__name__}" if configured else ""
        refused = explicit != name
    if refused:
        raise TeamError("本机没有可用的系统密码库（钥匙串），为安全起见不保存密码，未连接",
                        "no usable OS keyring on this machine: kefu will not store the password in plain "
                        "text, so it did not connect")
    return backend


def _login(target: Target, password: str):
    return open_session(target.host, target.port, target.dbname, target.role, password, target.sslmode,
                        target.sslrootcert)


def open_session(host: str, port: int, dbname: str, user: str, password: str, sslmode: str, sslrootcert: str = ""):
    """An autocommit connection, or TeamError in both languages (wrong password, no such database,
    unreachable). Shared by the agent's commands and the admin's (team/admin.py)."""
    psycopg = _require("psycopg")
    try:
        return psycopg.connect(host=host, port=port, dbname=dbname, user=user,
                               password=password, sslmode=sslmode, connect_timeout=CONNECT_TIMEOUT_S,
                               **({"sslrootcert": sslrootcert} if sslrootcert else {}),
                               application_name="kefu", autocommit=True)
    except psycopg.OperationalError as exc:
        text = str(exc)
        where = f"{_host_part(host)}:{port}"
        if "password authentication failed" in text or "no password supplied" in text:
            raise TeamError(f"服务器 {where} 拒绝登录：账号或密码不对",
                            f"the server {where} refused the login: wrong role or password") from None
        if "is not permitted to log in" in text:  # `kefu team disable-agent` (ALTER ROLE ... NOLOGIN)
            raise TeamError(f"服务器 {where} 拒绝登录：账号 {user} 已被停用",
                            f"the server {where} refused the login: the role {user} is disabled") from None
        if "certificate" in text or "SSL" in text or "no encryption" in text:
            raise TeamError(f"服务器 {where} 的加密连接未通过检查（证书不对、名称不符，或服务器要求加密）",
                            f"the TLS check with {where} failed (wrong certificate, name mismatch, or the "
                            f"server requires encryption): {_first_line(text)}") from None
        if "does not exist" in text and "database" in text:
            raise TeamError(f"服务器 {where} 上没有数据库 {dbname}",
                            f"the server {where} has no database {dbname}") from None
        raise TeamError(f"无法连接团队服务器 {where}（{CONNECT_TIMEOUT_S} 秒内无响应或被拒绝）",
                        f"cannot reach the team server {where}: {_first_line(text)}") from None


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["connection failed"])[0][:200]


def read_status(conn, target: Target) -> Status:
    """Check the server's schema against this client, then read who we are there."""
    psycopg = _require("psycopg")
    from . import schema

    try:
        recorded = dict(conn.execute("SELECT step, checksum FROM kefu_schema").fetchall())
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        raise TeamError("这不是 kefu 团队数据库（或此账号不是团队成员）：请管理员先运行 kefu team init",
                        "this is not a kefu team database (or the role is no team member): "
                        "an admin runs `kefu team init` first") from None
    version = max(recorded, default=0)
    if version > schema.SCHEMA_VERSION:
        raise TeamError(f"服务器数据库版本 {version} 比本程序（{schema.SCHEMA_VERSION}）新，请升级 kefu",
                        f"the server schema ({version}) is newer than this client ({schema.SCHEMA_VERSION}): "
                        "upgrade kefu")
    if version < schema.SCHEMA_VERSION:
        raise TeamError(f"服务器数据库版本 {version} 比本程序（{schema.SCHEMA_VERSION}）旧，请管理员升级服务器",
                        f"the server schema ({version}) is older than this client ({schema.SCHEMA_VERSION}): "
                        "an admin upgrades the server first")
    if any(recorded.get(s.number) != s.checksum for s in schema.STEPS):
        raise TeamError("服务器数据库结构与本程序不一致", "the server schema differs from this client's")
    team = target.team
    agent_group, supervisor_group = schema.group_roles(team)
    is_sup, is_agent = conn.execute(
        "SELECT pg_has_role(current_user, r.sup, 'MEMBER'), pg_has_role(current_user, r.agent, 'MEMBER') "
        "FROM (SELECT %s::text AS sup, %s::text AS agent) r "
        "WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.sup) "
        "AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.agent)",
        [supervisor_group, agent_group]).fetchone() or (False, False)
    if not is_agent:
        raise TeamError(f"角色 {target.role} 不是团队 {team} 的客服账号",
                        f"the role {target.role} is not an agent of team {team}")
    served = [(name, str(i)) for (name, i) in conn.execute("SELECT name, id FROM shops ORDER BY name")]  # RLS
    shops = [name for name, _ in served]
    return Status(target.server, target.role, team, "supervisor" if is_sup else "agent", shops, version,
                  dict(served))


def check(url: str, password: str) -> tuple[Target, Status]:
    """The network half of connect(): parse the URL, make sure a keyring can keep the password,
    log in and check the server's schema. Touches no store, so the panel runs it on a thread of
    its own (the store worker stays free) and then hands save() to the worker."""
    target = parse_url(url)
    usable_keyring()
    with _login(target, password) as conn:
        return target, read_status(conn, target)


def save(store, target: Target, status: Status, password: str) -> None:
    """The local half of connect(), after check(): keyring first, then the settings and the shops in
    one transaction (undoing the keyring entry if that fails). Raises TeamError with nothing stored."""
    backend = usable_keyring()
    old = configured(store)
    moving = old is not None and (old.server, old.role) != (target.server, target.role)
    if moving and outbox.size(store):
        raise TeamError(f"本机还有 {outbox.size(store)} 条修改没有同步到原来的团队服务器：先运行 kefu team sync"
                        "，或 kefu team disconnect --force 放弃它们",
                        f"{outbox.size(store)} local changes have not reached the previous team server: run "
                        "`kefu team sync` first, or `kefu team disconnect --force` to drop them")
    backend.set_password(SERVICE, target.keyring_user, password)
    try:
        with store.write() as db:  # all or nothing: a half-joined PC would sync with the wrong role
            if moving:
                outbox.forget_all(store)  # another server or role: its feed and shop copies start over
            settings.set(store, "team.server", target.server)
            settings.set(store, "team.role", target.role)
            settings.set(store, "team.kind", status.kind)
            # buyers starred from now on know their server shop, before a first sync
            db.conn.execute("DELETE FROM team_shops")
            db.conn.executemany("INSERT INTO team_shops (uuid, name) VALUES (?, ?)",
                                [(i, n) for n, i in status.shop_ids.items()])
    except BaseException:
        _forget(backend, target.keyring_user)
        raise
    if old is not None and old.keyring_user != target.keyring_user:
        _forget(backend, old.keyring_user)  # a team PC joins one server at a time


def connect(store, url: str, password: str) -> Status:
    """Log in, check, then store (check() then save()). Raises TeamError/ValidationError with
    nothing stored."""
    target, status = check(url, password)
    save(store, target, status, password)
    return status


def configured(store) -> Target | None:
    """The stored server and role, or None (local only)."""
    server, role = settings.get(store, "team.server"), settings.get(store, "team.role")
    if not server or not role:
        return None
    return parse_url(server, role=role)


def status(store) -> Status | None:
    """None when no server is configured; else logs in with the keyring's password and reads."""
    target = configured(store)
    if target is None:
        return None
    password = usable_keyring().get_password(SERVICE, target.keyring_user)
    if password is None:
        raise TeamError("系统密码库里没有团队密码：请重新运行 kefu team connect",
                        "the team password is not in the OS keyring: run `kefu team connect` again")
    with _login(target, password) as conn:
        return read_status(conn, target)


class PendingChanges(TeamError):
    """disconnect() refused: `count` changes made here have not reached the server."""

    def __init__(self, count: int) -> None:
        super().__init__(f"本机还有 {count} 条修改没有同步到团队服务器：先运行 kefu team sync，或加 --force 放弃它们",
                         f"{count} local changes have not reached the team server: run `kefu team sync` "
                         "first, or add --force to drop them")
        self.count = count


def disconnect(store, force: bool = False) -> Target | None:
    """Forget the server and the password; returns what was configured (None if nothing). Shop
    replies stay on this PC as the agent's own copies. Unsent changes make it refuse
    (PendingChanges) unless forced. The local part is one transaction; the keyring entry goes
    after it has committed."""
    try:
        target = configured(store)
    except ValidationError:
        target = None  # a hand-edited setting: clear it all the same
    with store.write():  # the outbox cannot grow between the check and the forgetting
        pending = outbox.size(store)
        if pending and not force:
            raise PendingChanges(pending)
        outbox.forget_all(store)
        settings.reset(store, list(TEAM_SETTINGS))
    if target is not None:
        # whatever backend is active: deleting needs no safety check, and a refused one holds nothing
        _forget(_require("keyring").get_keyring(), target.keyring_user)
    return target


def _forget(backend, user: str) -> None:
    import contextlib

    import keyring.errors

    # already gone, or a backend that never held it
    with contextlib.suppress(keyring.errors.PasswordDeleteError, NotImplementedError):
        backend.delete_password(SERVICE, user)


def open_client(store, **kwargs):
    """The sync client for the configured server (assistant/team/sync.py), logging in with the
    keyring's password whenever it (re)connects."""
    from . import sync

    target = configured(store)
    if target is None:
        raise TeamError("未连接团队服务器：先运行 kefu team connect URL",
                        "not connected to a team server: run `kefu team connect URL` first")
    password = usable_keyring().get_password(SERVICE, target.keyring_user)
    if password is None:
        raise TeamError("系统密码库里没有团队密码：请重新运行 kefu team connect",
                        "the team password is not in the OS keyring: run `kefu team connect` again")
    return sync.SyncClient(store, lambda: _login(target, password), **kwargs)


def lost(exc: BaseException) -> TeamError:
    """A connection that failed in the middle of a sync: nothing local is lost, it is resent."""
    return TeamError(f"与团队服务器的连接中断（{type(exc).__name__}），未同步的修改仍保存在本机，下次同步时发送",
                     f"the connection to the team server failed ({type(exc).__name__}); unsent changes stay "
                     "on this PC and go with the next sync")
