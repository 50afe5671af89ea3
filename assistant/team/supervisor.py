"""The supervisor's view of a team (GUI-free; each function takes the logged-in psycopg connection).

Who holds which buyer, chases and outcomes per agent for a day or a range, reassigning a buyer,
the shop library's change history with revert, disabling an agent, resetting a password. Everything
runs as the connected role: PostgreSQL's grants and row-level security decide what it may read and
change (assistant/team/schema.py), and the server functions kefu_reassign / kefu_disable_agent do
the lease changes. The one client-side check, require_supervisor(), only turns a refusal the server
would give anyway into one clear sentence before anything is read.

Nicknames are customer data: they are returned to the caller (the supervisor's terminal) and never
logged here; server errors carry ids and role names only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ..core import customers
from ..errors import KnownError, NotFoundError, ValidationError

LEASE_MINUTES = int(customers.LEASE_GRACE.total_seconds() // 60)  # as an agent's own claim (sync.py)
HANDOFF_KINDS = ("takeover", "reassign", "handover")  # claim_log kinds that move a buyer between agents
REPLY_FIELDS = ("title", "body", "code", "group_path")  # what a revert restores


class NotSupervisor(KnownError):
    """The connected role is no supervisor of its team: nothing was read or changed."""

    exit_code = 2


@dataclass(frozen=True)
class Me:
    role: str
    team: str


@dataclass(frozen=True)
class Agent:
    role: str
    display_name: str
    active: bool
    supervisor: bool

    @property
    def name(self) -> str:
        return self.role.split("_", 2)[2] if self.role.count("_") >= 2 else self.role

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass
class HeldBuyer:
    id: str
    nickname: str
    platform: str
    shop: str
    state: str
    starred: bool
    holder: str | None
    held_until: datetime | None
    last_chase: datetime | None
    chases: int


@dataclass
class AgentReport:
    role: str
    chases: int = 0
    buyers: int = 0
    collisions: int = 0  # chases this agent sent to a buyer someone else held
    collided: int = 0  # chases others sent to a buyer this agent held
    claims: int = 0
    received: int = 0  # buyers that came to this agent by take-over, reassignment or handover
    given: int = 0  # buyers that left this agent the same ways
    released: int = 0
    first_chase: datetime | None = None
    last_chase: datetime | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # state now of the buyers chased -> count


@dataclass
class HistoryRow:
    id: int
    reply: str
    shop: str
    changed_by: str
    changed_at: datetime
    before: dict | None
    after: dict

    @property
    def version(self) -> int:
        return int(self.after.get("version") or 0)

    @property
    def action(self) -> str:
        if self.before is None:
            return "created"
        if self.after.get("deleted") and not self.before.get("deleted"):
            return "deleted"
        if self.before.get("deleted") and not self.after.get("deleted"):
            return "restored"
        return "edited"


def _psycopg():
    import psycopg

    return psycopg


# ------------------------------------------------------------------ who is asking
def require_supervisor(conn) -> Me:
    """The caller's role and team, or NotSupervisor (the server decides: group membership)."""
    role = conn.execute("SELECT current_user").fetchone()[0]
    team = role.split("_")[1] if role.startswith("kefu_") and role.count("_") >= 2 else ""
    is_sup = bool(team) and conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) AND pg_has_role(current_user, %s, 'MEMBER')",
        [f"kefu_{team}_supervisor", f"kefu_{team}_supervisor"]).fetchone()[0]
    if not is_sup:
        raise NotSupervisor(f"只有主管账号可以使用此命令（当前账号 {role} 不是主管）",
                            f"only a supervisor role may do this ({role} is not a supervisor)")
    return Me(role, team)


def agents(conn) -> dict[str, Agent]:
    """The caller's team, by role (kefu_agents(): any member may read names, not shops)."""
    return {r: Agent(r, d or "", bool(a), bool(s))
            for r, d, a, s in conn.execute("SELECT role, display_name, active, supervisor FROM kefu_agents()")}


def resolve_agent(conn, me: Me, name: str, team_agents: dict[str, Agent] | None = None) -> Agent:
    """NAME as typed: the login role, the short name (wang) or the display name (王五)."""
    team_agents = agents(conn) if team_agents is None else team_agents
    text = name.strip()
    for role in (text, f"kefu_{me.team}_{text}"):
        if role in team_agents:
            return team_agents[role]
    by_display = [a for a in team_agents.values() if a.display_name == text]
    if len(by_display) == 1:
        return by_display[0]
    known = ", ".join(a.name for a in team_agents.values())
    raise ValidationError(f"团队里没有客服 {text}（可选：{known}）", f"no agent {text} in your team (one of: {known})")


def label(team_agents: dict[str, Agent], role: str | None) -> str:
    if role is None:
        return ""
    agent = team_agents.get(role)
    return agent.label if agent else role


# ------------------------------------------------------------------ holders
def holders(conn) -> list[HeldBuyer]:
    """Every buyer of the supervised shops with an unexpired lease, and the starred ones nobody holds
    (the pool: holder None). An expired lease counts as free, as it does for a claim."""
    rows = conn.execute(
        "SELECT b.id::text, b.nickname, b.platform, s.name, b.state, b.starred, "
        "       CASE WHEN b.held_until > now() THEN b.holder END, "
        "       CASE WHEN b.held_until > now() THEN b.held_until END, c.last, coalesce(c.n, 0) "
        "FROM buyers b JOIN shops s ON s.id = b.shop "
        "LEFT JOIN LATERAL (SELECT max(x.sent_at) AS last, count(*) AS n FROM chases x WHERE x.buyer = b.id) c ON true "
        "WHERE b.shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]) "
        "  AND ((b.holder IS NOT NULL AND b.held_until > now()) OR b.starred) "
        "ORDER BY s.name, b.platform, b.nickname").fetchall()
    return [HeldBuyer(*r) for r in rows]


# ------------------------------------------------------------------ report
def report(conn, start: datetime, end: datetime) -> list[AgentReport]:
    """Per agent, for server times in [start, end): chases sent, buyers chased (and their state
    now), collisions both ways, claims, buyers received / given by take-over, reassignment or
    handover, releases. Only agents with something to count; busiest first."""
    shops = "shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])"
    window = [start, end]
    by: dict[str, AgentReport] = {}

    def of(role: str) -> AgentReport:
        return by.setdefault(role, AgentReport(role))

    for role, n, buyers, collisions, first, last in conn.execute(
            f"SELECT author, count(*), count(DISTINCT buyer), count(*) FILTER (WHERE collision), "
            f"min(sent_at), max(sent_at) FROM chases WHERE {shops} AND sent_at >= %s AND sent_at < %s "
            f"GROUP BY author", window):
        r = of(role)
        r.chases, r.buyers, r.collisions, r.first_chase, r.last_chase = n, buyers, collisions, first, last
    for role, state, n in conn.execute(
            f"SELECT c.author, b.state, count(DISTINCT b.id) FROM chases c JOIN buyers b ON b.id = c.buyer "
            f"WHERE c.{shops} AND c.sent_at >= %s AND c.sent_at < %s GROUP BY 1, 2", window):
        of(role).outcomes[state] = n
    for role, n in conn.execute(f"SELECT holder, count(*) FROM collisions WHERE {shops} AND at >= %s AND at < %s "
                                f"GROUP BY holder", window):
        of(role).collided = n
    for kind, from_role, to_role, n in conn.execute(
            f"SELECT kind, from_role, to_role, count(*) FROM claim_log WHERE {shops} AND at >= %s AND at < %s "
            f"GROUP BY 1, 2, 3", window):
        if kind == "claim" and to_role:
            of(to_role).claims += n
        elif kind == "release" and from_role:
            of(from_role).released += n
        elif kind in HANDOFF_KINDS:
            if to_role:
                of(to_role).received += n
            if from_role and from_role != to_role:
                of(from_role).given += n
    return sorted(by.values(), key=lambda r: (-r.chases, r.role))


# ------------------------------------------------------------------ reassign
@dataclass(frozen=True)
class Reassigned:
    buyer: str
    nickname: str
    platform: str
    shop: str
    old: str | None  # the holder of an unexpired lease before, None when the buyer was free
    new: str
    held_until: datetime


def find_buyer(conn, nickname: str, platform: str | None = None, shop: str | None = None) -> tuple[str, str, str]:
    """(id, platform, shop name) of the one buyer of the supervised shops with that nickname;
    ValidationError naming the choices when several match."""
    where = ["b.nickname = %s", "b.shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])"]
    args: list[Any] = [nickname]
    if platform:
        where.append("b.platform = %s")
        args.append(customers.normalize_platform(platform))
    if shop:
        where.append("s.name = %s")
        args.append(shop.strip())
    rows = conn.execute("SELECT b.id::text, b.platform, s.name FROM buyers b JOIN shops s ON s.id = b.shop "
                        f"WHERE {' AND '.join(where)} ORDER BY s.name, b.platform", args).fetchall()
    if not rows:
        raise NotFoundError("你主管的店铺里没有这个买家", "no such buyer in the shops you supervise")
    if len(rows) > 1:
        choices = ", ".join(f"{s}/{p}" for _, p, s in rows)
        raise ValidationError(f"有多个同名买家，请用 --shop / --platform 指定：{choices}",
                              f"several buyers have that nickname: name one with --shop / --platform ({choices})")
    return rows[0]


def reassign(conn, me: Me, nickname: str, to: str, platform: str | None = None,
             shop: str | None = None) -> Reassigned:
    """kefu_reassign: the buyer goes to `to` (a lease like an agent's own claim, renewed while the
    receiver is online); the server logs it in claim_log and wakes every panel."""
    psycopg = _psycopg()
    team_agents = agents(conn)
    target = resolve_agent(conn, me, to, team_agents)
    buyer, plat, shop_name = find_buyer(conn, nickname, platform, shop)
    try:
        with conn.transaction():
            old = conn.execute("SELECT CASE WHEN held_until > now() THEN holder END FROM buyers WHERE id = %s "
                               "FOR UPDATE", [buyer]).fetchone()[0]
            new, until = conn.execute(
                f"SELECT holder, held_until FROM kefu_reassign(%s, %s, now() + interval '{LEASE_MINUTES} minutes')",
                [buyer, target.role]).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        raise NotSupervisor(f"你不是店铺 {shop_name} 的主管", f"you are not a supervisor of the shop {shop_name}") from None
    except psycopg.Error as exc:
        if exc.sqlstate == "KF400":
            raise ValidationError(f"{target.label} 不是店铺 {shop_name} 在职的客服，未改派",
                                  f"{target.label} is not an active agent of the shop {shop_name}: "
                                  "nothing changed") from None
        raise
    return Reassigned(buyer, nickname, plat, shop_name, old, new, until)


# ------------------------------------------------------------------ library history
def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def history(conn, reply: str | None = None, limit: int = 50) -> list[HistoryRow]:
    """The shop library's changes, newest first: all of them, or one reply's (a uuid) or those of
    the replies whose title, now or in any version, contains `reply`."""
    where = ["h.shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])"]
    args: list[Any] = []
    text = (reply or "").strip()
    if text and _is_uuid(text):
        where.append("h.reply = %s")
        args.append(text)
    elif text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("h.reply IN (SELECT x.reply FROM shop_reply_history x WHERE x.after->>'title' ILIKE %s)")
        args.append(pattern)
    elif text == "" and reply is not None:
        raise ValidationError("请给出话术标题或编号", "give a reply title or id")
    args.append(limit)
    rows = conn.execute("SELECT h.id, h.reply::text, s.name, h.changed_by, h.changed_at, h.before, h.after "
                        "FROM shop_reply_history h JOIN shops s ON s.id = h.shop "
                        f"WHERE {' AND '.join(where)} ORDER BY h.changed_at DESC, h.id DESC LIMIT %s", args).fetchall()
    return [HistoryRow(*r) for r in rows]


@dataclass(frozen=True)
class Reverted:
    reply: str
    restored: int  # the version whose text came back
    version: int  # the reply's version now (unchanged when there was nothing to restore)
    changed: bool
    undeleted: bool
    title: str


def _reply_id(conn, text: str) -> str:
    """A reply id, or a unique prefix of one as `kefu team history` prints it (8+ characters)."""
    text = text.strip().lower()
    if _is_uuid(text):
        return str(uuid.UUID(text))
    if len(text) < 8 or any(c not in "0123456789abcdef-" for c in text):
        raise ValidationError("话术编号无效（至少 8 位，见 kefu team history）",
                              "not a reply id (8 characters or more, as `kefu team history` shows)")
    rows = conn.execute("SELECT id::text FROM shop_replies WHERE id::text LIKE %s LIMIT 2", [text + "%"]).fetchall()
    if len(rows) != 1:
        if rows:
            raise ValidationError("话术编号不唯一，请多写几位", "that id prefix matches several replies: give more of it")
        raise NotFoundError(f"没有这条店铺话术：{text}", f"no such shop reply: {text}")
    return rows[0][0]


def revert(conn, reply: str, version: int) -> Reverted:
    """Put version `version`'s title, body, code and group back: a normal supervisor UPDATE with
    version = current + 1 (the server's version check and history trigger apply, so the revert
    is a history row itself); a reply deleted since comes back."""
    psycopg = _psycopg()
    rid = _reply_id(conn, reply)
    try:
        with conn.transaction():
            current = conn.execute("SELECT version, deleted, title, body, code, group_path FROM shop_replies "
                                   "WHERE id = %s FOR UPDATE", [rid]).fetchone()
            if current is None:
                raise NotFoundError(f"没有这条店铺话术：{reply}", f"no such shop reply: {reply}")
            snap = conn.execute("SELECT after FROM shop_reply_history WHERE reply = %s "
                                "AND (after->>'version')::int = %s ORDER BY id DESC LIMIT 1", [rid, version]).fetchone()
            if snap is None:
                versions = [v for (v,) in conn.execute(
                    "SELECT DISTINCT (after->>'version')::int FROM shop_reply_history WHERE reply = %s ORDER BY 1",
                    [rid])]
                raise NotFoundError(f"这条话术没有第 {version} 版（有：{', '.join(map(str, versions)) or '无'}）",
                                    f"this reply has no version {version} "
                                    f"(there are: {', '.join(map(str, versions)) or 'none'})")
            old = snap[0]
            cur_version, deleted, *cur_fields = current
            wanted = [old.get(f) if old.get(f) is not None else cur for f, cur in zip(REPLY_FIELDS, cur_fields)]
            if wanted == cur_fields and not deleted:
                return Reverted(rid, version, cur_version, False, False, cur_fields[0])
            new_version = conn.execute(
                "UPDATE shop_replies SET title = %s, body = %s, code = %s, group_path = %s, deleted = false, "
                "version = %s WHERE id = %s RETURNING version", [*wanted, cur_version + 1, rid]).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        raise NotSupervisor("只有主管可以修改店铺话术库", "only a supervisor may change the shop library") from None
    except psycopg.Error as exc:
        if exc.sqlstate == "KF409":
            raise ValidationError("话术刚被别人修改，请重新运行此命令", "the reply was changed meanwhile: run the "
                                  "command again") from None
        raise
    return Reverted(rid, version, new_version, True, bool(deleted), wanted[0])


# ------------------------------------------------------------------ agents
def disable(conn, me: Me, name: str) -> tuple[Agent, bool, int]:
    """kefu_disable_agent: the agent sees no shop any more and its buyers return to the pool.
    Returns (agent, was active, buyers released)."""
    target = resolve_agent(conn, me, name)
    if target.role == me.role:
        raise ValidationError("不能停用自己的账号", "you cannot disable your own role")
    psycopg = _psycopg()
    try:
        released = conn.execute("SELECT kefu_disable_agent(%s)", [target.role]).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        raise NotSupervisor("只有主管可以停用客服", "only a supervisor may disable an agent") from None
    return target, target.active, released


def can_create_roles(conn) -> bool:
    """ALTER ROLE ... PASSWORD on another role needs CREATEROLE (or a superuser)."""
    return bool(conn.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
                .fetchone()[0])


def needs_admin(me: Me, agent: Agent) -> ValidationError:
    """Why a supervisor without CREATEROLE cannot reset a password, and the admin's command that can."""
    return ValidationError(
        f"重置密码需要 PostgreSQL 的 CREATEROLE 权限，主管账号 {me.role} 没有：请管理员运行 "
        f"kefu team set-password ADMIN_URL --team {me.team} {agent.name}",
        f"resetting a password needs PostgreSQL's CREATEROLE, which the supervisor role {me.role} lacks: "
        f"an admin runs `kefu team set-password ADMIN_URL --team {me.team} {agent.name}`")


def reset_password_checked(conn, me: Me, name: str, password: str) -> Agent:
    """reset_password() for the panel: the new password checked as the admin's commands check it,
    and a role without the right (no CREATEROLE, or PostgreSQL 16+ where CREATEROLE alone is not
    enough) told to ask the admin (needs_admin)."""
    from .admin import check_new_password

    check_new_password(password)
    agent = resolve_agent(conn, me, name)
    if not can_create_roles(conn):
        raise needs_admin(me, agent)
    try:
        return reset_password(conn, me, agent.role, password)
    except _psycopg().errors.InsufficientPrivilege:
        raise needs_admin(me, agent) from None


def reset_password(conn, me: Me, name: str, password: str) -> Agent:
    """A new password for an agent of the team, sent as a SCRAM verifier computed here (the password
    never reaches the server). Only for a supervisor role that holds CREATEROLE; the caller checks
    can_create_roles() first and sends the others to the admin."""
    from psycopg import sql

    target = resolve_agent(conn, me, name)
    verifier = conn.pgconn.encrypt_password(password.encode(), target.role.encode(), b"scram-sha-256").decode()
    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(target.role), sql.Literal(verifier)))
    return target


def local(when: datetime | None, tz: tzinfo) -> datetime | None:
    return when.astimezone(tz) if when is not None else None
