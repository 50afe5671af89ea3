"""What a shop's IT person does on the team server (GUI-free): `kefu team init / add-shop /
add-agent / grant-shop / set-password / disable-agent / agents` (assistant/cli/team_admin.py).

The admin logs in with an ADMIN URL, `postgresql://USER@HOST[:PORT]/DB[?sslmode=...]`, checked like
an agent's URL (connection.split_url: never a password in it). USER must be a superuser, or own
the database and have CREATEROLE (agents are cluster-wide login roles); that is checked at login so
a weaker account gets one clear sentence instead of a permission error halfway through.

Every command names the team, and every agent command finds the agent's role through the `agents`
table of that team: these commands never touch a role that is not one of the team's agents.
Agent passwords reach the server only as SCRAM verifiers computed by libpq on this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from psycopg import sql

from ..errors import NotFoundError, ValidationError
from . import schema
from .connection import Target, TeamError, _bad_url, open_session, split_url

MIN_PASSWORD = 8
_PG_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,63}$")  # a PostgreSQL identifier: at most 63 bytes, no controls
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class AdminTarget:
    host: str
    port: int
    dbname: str
    user: str
    sslmode: str = "prefer"
    sslrootcert: str = ""  # the shop's CA, for sslmode=verify-full

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}/{self.dbname}"

    def agent_url(self, role: str) -> str:
        """What the agent gives to `kefu team connect`: this server, database and sslmode, their role."""
        server = Target(self.host, self.port, self.dbname, role, self.sslmode).server
        return f"postgresql://{role}@{server.removeprefix('postgresql://')}"

    @property
    def is_local(self) -> bool:
        """Reached through the loopback: the agents' PCs need the server's LAN name instead."""
        return self.host in ("localhost", "::1") or self.host.startswith("127.")


@dataclass
class InitResult:
    steps: list[int] = field(default_factory=list)  # schema steps applied now
    team_created: bool = False
    shops_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps or self.team_created or self.shops_created)


@dataclass
class Agent:
    name: str
    role: str
    display_name: str
    kind: str  # agent | supervisor
    shops: list[str]
    active: bool


# ------------------------------------------------------------------ checks (before any password prompt)
def parse_admin_url(url: str) -> AdminTarget:
    def check_user(user: str) -> None:
        if not user:
            raise _bad_url("需要管理员账号，例如 postgresql://postgres@服务器/数据库",
                           "it needs the admin user, e.g. postgresql://postgres@host/db")
        if not _PG_NAME.match(user) or len(user.encode()) > 63:
            raise _bad_url("管理员账号名无效", "the admin user name is not a valid PostgreSQL role name")

    host, port, dbname, user, sslmode, rootcert = split_url(url, check_user)
    return AdminTarget(host, port, dbname, user, sslmode, rootcert)


def check_team(team: str) -> str:
    if not schema.TEAM_RE.match(team):
        raise ValidationError(f"团队代号只能用小写字母开头的小写字母和数字（最多 20 个）：{team!r}",
                              f"a team id is a lowercase letter then lowercase letters or digits (at most 20): "
                              f"{team!r}")
    return team


def check_agent_name(name: str) -> str:
    if not schema.AGENT_RE.match(name):
        raise ValidationError(f"账号名只能用小写字母开头的小写字母、数字和下划线（最多 30 个）：{name!r}",
                              f"an agent name is a lowercase letter then lowercase letters, digits or '_' "
                              f"(at most 30): {name!r}")
    return name


def check_shop_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or _CONTROL.search(name):
        raise ValidationError("店铺名不能为空、不能超过 100 个字符或含控制字符",
                              "a shop name must be 1 to 100 characters without control characters")
    return name


def check_display_name(name: str) -> str:
    name = name.strip()
    if _CONTROL.search(name) or len(name) > 60:
        raise ValidationError("显示名不能超过 60 个字符或含控制字符",
                              "a display name must be at most 60 characters without control characters")
    return name


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"密码至少需要 {MIN_PASSWORD} 个字符，未更改",
                              f"the password needs at least {MIN_PASSWORD} characters: nothing changed")
    if _CONTROL.search(password):
        raise ValidationError("密码不能含控制字符或换行，未更改",
                              "the password may not contain control characters or line breaks: nothing changed")
    return password


# ------------------------------------------------------------------ login
def login(target: AdminTarget, password: str):
    """An autocommit connection as the admin, or TeamError (wrong password, unreachable, no such
    database, not allowed to administer it)."""
    conn = open_session(target.host, target.port, target.dbname, target.user, password, target.sslmode,
                        target.sslrootcert)
    try:
        row = conn.execute(
            "SELECT r.rolsuper, r.rolcreaterole AND d.datdba = r.oid FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()").fetchone()
        if not row or not (row[0] or row[1]):
            raise TeamError(
                f"账号 {target.user} 不能管理数据库 {target.dbname}：需要超级用户，或拥有该数据库并有 CREATEROLE 权限的账号",
                f"the user {target.user} cannot administer the database {target.dbname}: it must be a superuser, "
                "or own the database and have CREATEROLE")
    except BaseException:
        conn.close()
        raise
    return conn


def _newer(version: int) -> TeamError:
    return TeamError(f"服务器数据库版本 {version} 比本程序（{schema.SCHEMA_VERSION}）新，请升级 kefu；未做任何更改",
                     f"the server schema ({version}) is newer than this client ({schema.SCHEMA_VERSION}): "
                     "upgrade kefu; nothing was changed")


def _require_schema(conn) -> None:
    recorded = schema.applied(conn)
    version = max(recorded, default=0)
    if not version:
        raise TeamError("这个数据库还不是 kefu 团队数据库：请先运行 kefu team init",
                        "this database is no kefu team database yet: run `kefu team init` first")
    if version > schema.SCHEMA_VERSION:
        raise _newer(version)
    if version < schema.SCHEMA_VERSION:
        raise TeamError(f"服务器数据库版本 {version} 比本程序（{schema.SCHEMA_VERSION}）旧：请先运行 kefu team init 升级",
                        f"the server schema ({version}) is older than this client ({schema.SCHEMA_VERSION}): "
                        "run `kefu team init` to upgrade it first")


def _require_team(conn, team: str) -> None:
    _require_schema(conn)
    if conn.execute("SELECT 1 FROM teams WHERE id = %s", [check_team(team)]).fetchone() is None:
        raise NotFoundError(f"没有团队 {team}：请先运行 kefu team init … --team {team}",
                            f"there is no team {team}: run `kefu team init ... --team {team}` first")


def _shop_id(conn, team: str, shop: str):
    row = conn.execute("SELECT id FROM shops WHERE team = %s AND name = %s", [team, shop]).fetchone()
    if row is None:
        raise NotFoundError(f"团队 {team} 没有店铺 {shop!r}（可用 kefu team add-shop 添加）",
                            f"team {team} has no shop {shop!r} (`kefu team add-shop` adds one)")
    return row[0]


def _agent_role(conn, team: str, name: str) -> str:
    row = conn.execute("SELECT role FROM agents WHERE team = %s AND name = %s",
                       [team, check_agent_name(name)]).fetchone()
    if row is None:
        raise NotFoundError(f"团队 {team} 没有客服账号 {name}", f"team {team} has no agent {name}")
    return row[0]


def _role_exists(conn, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def _verifier(conn, role: str, password: str) -> str:
    # libpq computes the SCRAM verifier here, as schema.create_agent does: the password never leaves
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


# ------------------------------------------------------------------ commands
def init(conn, team: str, name: str = "", shops: list[str] | tuple[str, ...] = ()) -> InitResult:
    """Apply the schema, create the team and each named shop when missing. A second run changes
    nothing. A server schema newer than this client: TeamError before anything is written."""
    check_team(team)
    shops = list(dict.fromkeys(check_shop_name(s) for s in shops))
    version = max(schema.applied(conn), default=0)
    if version > schema.SCHEMA_VERSION:
        raise _newer(version)
    result = InitResult()
    try:
        result.steps = schema.apply(conn)
    except schema.SchemaError:
        version = max(schema.applied(conn), default=0)
        if version > schema.SCHEMA_VERSION:  # another admin upgraded it meanwhile
            raise _newer(version) from None
        raise TeamError("服务器数据库结构与本程序不一致（已应用的步骤被修改过）；未做任何更改",
                        "the server schema differs from this client's (an applied step was changed): "
                        "nothing was changed") from None
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('kefu_team_admin'))")  # two inits at once
        if conn.execute("SELECT 1 FROM teams WHERE id = %s", [team]).fetchone() is None:
            schema.create_team(conn, team, name.strip() or team)
            result.team_created = True
        for shop in shops:
            if conn.execute("SELECT 1 FROM shops WHERE team = %s AND name = %s", [team, shop]).fetchone() is None:
                schema.create_shop(conn, team, shop)
                result.shops_created.append(shop)
    return result


def add_shop(conn, team: str, shop: str) -> None:
    shop = check_shop_name(shop)
    _require_team(conn, team)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('kefu_team_admin'))")
        if conn.execute("SELECT 1 FROM shops WHERE team = %s AND name = %s", [team, shop]).fetchone():
            raise ValidationError(f"团队 {team} 已有店铺 {shop!r}，未更改",
                                  f"team {team} already has the shop {shop!r}: nothing changed")
        schema.create_shop(conn, team, shop)


def add_agent(conn, team: str, name: str, password: str, supervisor: bool = False,
              shops: list[str] | tuple[str, ...] = (), display_name: str = "") -> str:
    """A new login role for the agent (schema.create_agent); returns the role. An existing agent
    or role, or an unknown shop: an error and nothing changed."""
    check_agent_name(name)
    check_new_password(password)
    display_name = check_display_name(display_name)
    shops = list(dict.fromkeys(check_shop_name(s) for s in shops))
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('kefu_team_admin'))")
        role = check_new_agent(conn, team, name, shops)
        schema.create_agent(conn, team, name, password, supervisor=supervisor, shops=shops,
                            display_name=display_name)
    return role


def check_new_agent(conn, team: str, name: str, shops: list[str] | tuple[str, ...] = ()) -> str:
    """The role add_agent would create, or the error it would give (no team, unknown shop, an
    existing agent or role). Also called before the new password is asked."""
    check_agent_name(name)
    _require_team(conn, team)
    for shop in shops:
        _shop_id(conn, team, check_shop_name(shop))
    if conn.execute("SELECT 1 FROM agents WHERE team = %s AND name = %s", [team, name]).fetchone():
        raise ValidationError(f"团队 {team} 已有客服账号 {name}，未更改（改密码用 kefu team set-password）",
                              f"team {team} already has an agent {name}: nothing changed "
                              "(`kefu team set-password` resets a password)")
    role = schema.agent_role(team, name)
    if _role_exists(conn, role):  # roles are cluster-wide: one left by another database
        raise ValidationError(f"服务器上已有角色 {role}（可能属于另一个数据库），未更改",
                              f"the server already has a role {role} (perhaps another database's): "
                              "nothing changed")
    return role


def find_agent(conn, team: str, name: str) -> str:
    """The role of one of the team's agents, or NotFoundError."""
    _require_team(conn, team)
    return _agent_role(conn, team, name)


def grant_shop(conn, team: str, name: str, shop: str) -> bool:
    """The agent also serves `shop`; False when it already did (nothing changed)."""
    shop = check_shop_name(shop)
    _require_team(conn, team)
    with conn.transaction():
        role = _agent_role(conn, team, name)
        shop_id = _shop_id(conn, team, shop)
        cur = conn.execute("INSERT INTO agent_shops (role, team, shop) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                           [role, team, shop_id])
        return cur.rowcount == 1


def set_password(conn, team: str, name: str, password: str) -> str:
    """A new password for one of the team's agents (sent as a SCRAM verifier); returns the role."""
    check_new_password(password)
    _require_team(conn, team)
    with conn.transaction():
        role = _agent_role(conn, team, name)
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(_verifier(conn, role, password))))
    return role


def set_active(conn, team: str, name: str, active: bool) -> tuple[str, bool, int]:
    """Disable (agents.active = false and the role NOLOGIN) or enable an agent: returns (role,
    changed, sessions ended). Disabling also ends the agent's open sessions when this admin may
    (a superuser or pg_signal_backend); an open session already sees no shop rows, since the
    policies serve active agents only. The buyers a disabled agent followed return to the shop's
    pool (kefu_release_agent, logged), so their reminders go with whoever picks them up."""
    _require_team(conn, team)
    with conn.transaction():
        role = _agent_role(conn, team, name)
        was_active, could_login = conn.execute(
            "SELECT a.active, r.rolcanlogin FROM agents a JOIN pg_roles r ON r.rolname = a.role "
            "WHERE a.role = %s FOR UPDATE OF a", [role]).fetchone()
        changed = (was_active, could_login) != (active, active)
        conn.execute("UPDATE agents SET active = %s WHERE role = %s", [active, role])
        conn.execute(sql.SQL("ALTER ROLE {} " + ("LOGIN" if active else "NOLOGIN")).format(sql.Identifier(role)))
        if not active:
            conn.execute("SELECT kefu_release_agent(%s)", [role])
    ended = 0
    if not active:
        may_signal = conn.execute(
            "SELECT rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') "
            "FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if may_signal:
            ended = conn.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE usename = %s", [role]).fetchone()[0]
    return role, changed, ended


def list_agents(conn, team: str) -> list[Agent]:
    _require_team(conn, team)
    supervisor_group = schema.group_roles(team)[1]
    rows = conn.execute(
        "SELECT a.name, a.role, a.display_name, a.active, "
        "       EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "               JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = %s AND u.rolname = a.role), "
        "       coalesce(array_agg(s.name ORDER BY s.name) FILTER (WHERE s.name IS NOT NULL), '{}') "
        "FROM agents a LEFT JOIN agent_shops x ON x.role = a.role LEFT JOIN shops s ON s.id = x.shop "
        "WHERE a.team = %s GROUP BY a.name, a.role, a.display_name, a.active ORDER BY a.name",
        [supervisor_group, team]).fetchall()
    return [Agent(name, role, display, "supervisor" if sup else "agent", list(shops), active)
            for name, role, display, active, sup, shops in rows]
