"""The team server's schema: ordered, frozen SQL steps, each applied once in its own transaction and
recorded (with a checksum) in `kefu_schema`. `apply(conn)` is idempotent and refuses a database whose
schema is newer than this client, or whose recorded step differs from ours (a frozen step was edited).

Who may do what is enforced by PostgreSQL itself, so it holds for any client:
- Roles are cluster-wide, so every role is namespaced by its team: `kefu_<team>_agent` and
  `kefu_<team>_supervisor` are NOLOGIN group roles (the supervisor group is a member of the agent
  group), an agent logs in as `kefu_<team>_<name>`. Two teams' `wang` are two roles.
- Privileges (granted per team by `kefu_team_grants`) say WHAT a group may do: agents SELECT shop
  replies and SELECT/INSERT/UPDATE personal replies; only supervisors INSERT/UPDATE shop replies and
  SELECT history. Nobody gets DELETE: a delete is a tombstone (`deleted = true`) so it reaches offline
  clients.
- Row-level security says WHICH rows: shop rows of the shops granted in `agent_shops` (the shop and
  the agent must be of the same team: a composite foreign key), personal rows of their owner. The
  policies pass the caller's shops as one array from an init-plan (`(SELECT kefu_shops_of(...))`),
  not a per-row function call, so an index on `shop` stays usable.
- The version check is a BEFORE UPDATE trigger rather than only a function, so it cannot be bypassed
  by a plain UPDATE: an update must set `version` to the version the client read + 1, anything else
  raises SQLSTATE KF409 with a bilingual message and changes nothing. Under concurrency the second
  writer waits on the row lock and then sees the new row, so it is rejected too. `update_shop_reply`
  and `delete_shop_reply` (SECURITY INVOKER: the caller's own rights and policies apply) wrap that.
  The same trigger stamps `updated_at = now()` (server time, never a PC clock) and `updated_by`.
- History rows are written by an AFTER trigger that is SECURITY DEFINER: nobody holds INSERT on the
  history table, so it cannot be forged, only read (supervisors, their shops).

Buyers (step 4): buyers, their marks (sets: add/remove upserts), notes and chases (append-only),
collisions, the claim log, phones. Holding a buyer is a lease (holder, held_until) that only the
SECURITY DEFINER functions `kefu_claim`, `kefu_take_over`, `kefu_reassign`, `kefu_release`,
`kefu_renew`, `kefu_release_agent`, `kefu_hand_over` and `kefu_disable_agent` change. That is
enforced by column privileges rather than by a trigger reading a session flag: agents hold INSERT
and UPDATE on the buyer columns they may write and not on holder/held_until, so PostgreSQL refuses
a direct change for any client, while a `SET LOCAL kefu.claiming` flag could be set by anyone. A
claim locks the buyer row before deciding, so concurrent claims queue and exactly one wins; the
lease end is clamped to now() + 16 hours (a PC clock set ahead cannot hold a buyer for days) and
an expired lease is simply free. A chase of a buyer held by someone else is stored (nothing an
agent sent is lost) with collision = true and a `collisions` row the holder, the chaser and the
shop's supervisors read. Phones are never selectable by agents; `kefu_reveal_phone` returns one and
writes an audit row. Step 4's SQL comments give the details.

Reminders (step 5): each reminder of a shared buyer has one owner on the server; agents read only
their own (and, once, one that just left them) and change them only through `kefu_put_reminder`.
A trigger on `claim_log` moves a buyer's pending reminders whenever its holder changes (so a
handover moves the same reminders instead of copying them); `kefu_add_promotion` stores a shop
promotion's whole wave in one statement (one wake-up); `kefu_pick_up_pool` takes the shop's pool.

After-sales (step 7): cases of shared buyers, their history (append-only, each line once by its
uuid) and the shops' limits (挽单权限). A case follows its buyer (only the holder, or a supervisor,
changes it: the row policy); `kefu_put_case` applies one change of a case and refuses a status move
from a status the server no longer has (KF409) or one TRANSITIONS does not allow (KF400); the
decision columns and the limits are the supervisor group's (privileges), a 'decision' event or one
by_role 'supervisor' needs a supervisor of the shop (row policy), and an agent's offer above the
limit the server holds for it is refused (42501) unless the supervisor approved that offer.

Products, calls, 勿扰 and synonyms (step 8): the shop's product list and search synonym groups are
the supervisor group's to write (privileges and row policies; agents read), products with the shop
library's version check (KF409) and one live product per shop and name. A buyer's product links,
promotion calls and 勿扰 change only through `kefu_link_product`, `kefu_record_call` and
`kefu_set_do_not_call`, which follow the buyer's holder like a case (KF423 for anyone else but a
supervisor of the shop). Chases carry the selling point they sent.

Orders (step 9): unpaid orders of shared buyers, written only through `kefu_put_order` (the holder
rule of step 8, KF423). The shared row holds the masked number; the full one sits in `order_numbers`,
granted to nobody and read only by `kefu_reveal_order_number` (SECURITY DEFINER), which writes an
`order_reveals` audit row (who, when, which order; never the number). Paid or closed ends the order's
pending 催付 reminders (reminders kind 'order', naming their order) whoever owns them.

Passwords: `create_agent` sends only the SCRAM verifier computed by libpq on the client, never the
password, so it cannot appear in a server log.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql

from ..paths import resource_path

STALE_VERSION = "KF409"  # SQLSTATE of a stale shop-reply edit
HELD_BY_OTHER = "KF423"  # SQLSTATE: the buyer is held by another agent
BAD_ARGUMENT = "KF400"  # SQLSTATE: a value the server refuses (a past lease end, a changed id ...)
MAX_LEASE_HOURS = 16  # kefu_lease_end clamps a lease to now() + this

TEAM_RE = re.compile(r"^[a-z][a-z0-9]{0,19}$")  # no "_": kefu_<team>_<agent> parses one way
AGENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS kefu_schema (
    step int PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

# The steps are plain SQL files, resources/team_schema/NNNN_name.sql, applied in order. Frozen:
# never edit a released step (apply() refuses a checksum mismatch); add a new file instead. The
# first line of each ("-- kefu team schema step N: NAME") names it; the checksum covers the rest.
_HEADER = re.compile(r"^-- kefu team schema step (\d+): (.+)$")


def _load_steps() -> tuple[Step, ...]:
    steps = []
    for path in sorted(resource_path("team_schema").glob("[0-9][0-9][0-9][0-9]_*.sql")):
        text = path.read_text(encoding="utf-8")
        first = text.split("\n", 1)[0]
        match = _HEADER.match(first)
        if match is None or int(match.group(1)) != int(path.name[:4]):
            raise SchemaError(f"{path.name}: the first line must be '-- kefu team schema step N: NAME'")
        steps.append(Step(int(match.group(1)), match.group(2), text[len(first):]))
    if [s.number for s in steps] != list(range(1, len(steps) + 1)):
        raise SchemaError("team schema steps must be numbered 1, 2, 3 ... without gaps")
    return tuple(steps)


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this client (newer, or a frozen step differs)."""


STEPS: tuple[Step, ...] = _load_steps()
SCHEMA_VERSION = STEPS[-1].number


def applied(conn) -> dict[int, str]:
    """Recorded steps: number -> checksum (empty before the first apply)."""
    exists = conn.execute("SELECT to_regclass('kefu_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    return dict(conn.execute("SELECT step, checksum FROM kefu_schema").fetchall())


def apply(conn) -> list[int]:
    """Apply the missing steps, each in its own transaction; returns the numbers applied now.
    Run as the database owner (an admin), never as an agent."""
    done: list[int] = []
    with conn.transaction():
        conn.execute(_BOOTSTRAP)
    for step in STEPS:
        with conn.transaction():
            # one admin at a time: a second `kefu team init` waits, then finds the step recorded
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kefu_schema'))")
            recorded = applied(conn)
            newer = [n for n in recorded if n > SCHEMA_VERSION]
            if newer:
                raise SchemaError(f"服务器数据库版本 {max(newer)} 比本程序新，请升级 / the server schema "
                                  f"(step {max(newer)}) is newer than this client ({SCHEMA_VERSION}): upgrade kefu")
            if step.number in recorded:
                if recorded[step.number] != step.checksum:
                    raise SchemaError(f"schema step {step.number} ({step.name}) differs from the one applied")
                continue
            conn.execute(step.sql)
            conn.execute("INSERT INTO kefu_schema (step, name, checksum) VALUES (%s, %s, %s)",
                         [step.number, step.name, step.checksum])
            done.append(step.number)
    return done


# ------------------------------------------------------------------ admin helpers
def group_roles(team: str) -> tuple[str, str]:
    """(agent group, supervisor group) of a team."""
    return f"kefu_{team}_agent", f"kefu_{team}_supervisor"


def agent_role(team: str, name: str) -> str:
    return f"kefu_{team}_{name}"


def _check_team(team: str) -> None:
    if not TEAM_RE.match(team):
        raise ValueError(f"团队代号只能用小写字母和数字 / team id must match {TEAM_RE.pattern}: {team!r}")


def _role_exists(conn, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def create_team(conn, team: str, name: str = "") -> None:
    """A team row, its two group roles (created if missing: roles outlive a database) and their grants."""
    _check_team(team)
    agent, supervisor = group_roles(team)
    with conn.transaction():
        conn.execute("INSERT INTO teams (id, name) VALUES (%s, %s)", [team, name or team])
        for role in (agent, supervisor):
            if not _role_exists(conn, role):
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(agent), sql.Identifier(supervisor)))
        conn.execute("SELECT kefu_team_grants(%s)", [team])


def create_shop(conn, team: str, name: str) -> uuid.UUID:
    with conn.transaction():
        return conn.execute("INSERT INTO shops (team, name) VALUES (%s, %s) RETURNING id", [team, name]).fetchone()[0]


def create_agent(conn, team: str, name: str, password: str, supervisor: bool = False,
                 shops: Iterable[str] = (), display_name: str = "") -> str:
    """A login role `kefu_<team>_<name>` in the team's agent or supervisor group, serving `shops`
    (shop names of this team). Returns the role name."""
    _check_team(team)
    if not AGENT_RE.match(name):
        raise ValueError(f"账号名只能用小写字母、数字和下划线 / agent name must match {AGENT_RE.pattern}: {name!r}")
    role = agent_role(team, name)
    group = group_roles(team)[1 if supervisor else 0]
    # libpq computes the SCRAM verifier here: the password itself never reaches the server
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    with conn.transaction():
        conn.execute("INSERT INTO agents (role, team, name, display_name) VALUES (%s, %s, %s, %s)",
                     [role, team, name, display_name or name])
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(role), sql.Literal(verifier), sql.Identifier(group)))
        for shop in shops:
            row = conn.execute("SELECT id FROM shops WHERE team = %s AND name = %s", [team, shop]).fetchone()
            if row is None:
                raise ValueError(f"团队 {team} 没有店铺 {shop!r} / team {team} has no shop {shop!r}")
            conn.execute("INSERT INTO agent_shops (role, team, shop) VALUES (%s, %s, %s)", [role, team, row[0]])
    return role


def team_roles(conn) -> list[str]:
    """Every role this database's teams created (login roles first): for dropping a test database."""
    logins = [r[0] for r in conn.execute("SELECT role FROM agents ORDER BY role")]
    groups = [g for (team,) in conn.execute("SELECT id FROM teams ORDER BY id") for g in group_roles(team)]
    return logins + groups
