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

STALE_VERSION = "KF409"  # SQLSTATE of a stale shop-reply edit

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

# Frozen: never edit a released step (apply() refuses a checksum mismatch); add a new one instead.
STEPS: tuple[Step, ...] = (
    Step(1, "teams, shops, agents", r"""
CREATE TABLE teams (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9]{0,19}$'),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shops (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team text NOT NULL REFERENCES teams,
    name text NOT NULL,
    UNIQUE (team, name),
    UNIQUE (id, team)
);
CREATE TABLE agents (
    role text PRIMARY KEY,
    team text NOT NULL REFERENCES teams,
    name text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team, name),
    UNIQUE (role, team),
    CHECK (role = 'kefu_' || team || '_' || name)
);
-- team is repeated so both foreign keys pin it: an agent can only be granted its own team's shops
CREATE TABLE agent_shops (
    role text NOT NULL,
    team text NOT NULL,
    shop uuid NOT NULL,
    PRIMARY KEY (role, shop),
    FOREIGN KEY (role, team) REFERENCES agents (role, team) ON DELETE CASCADE,
    FOREIGN KEY (shop, team) REFERENCES shops (id, team) ON DELETE CASCADE
);

-- The shops p_role serves, for RLS policies. SECURITY DEFINER so agents need no grant on
-- agent_shops; it answers only about the caller's own login (or for an admin).
CREATE FUNCTION kefu_shops_of(p_role text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(s.shop), '{}')
    FROM agent_shops s JOIN agents a ON a.role = s.role
    WHERE s.role = p_role AND a.active AND pg_has_role(session_user, p_role, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION kefu_shops_of(text) FROM PUBLIC;
ALTER TABLE shops ENABLE ROW LEVEL SECURITY;
CREATE POLICY shops_served ON shops FOR SELECT USING (id = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
"""),
    Step(2, "shop replies, history, personal replies", r"""
CREATE TABLE shop_replies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop uuid NOT NULL REFERENCES shops,
    group_path text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    body text NOT NULL,
    code text NOT NULL DEFAULT '',
    version integer NOT NULL DEFAULT 1,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user
);
CREATE INDEX shop_replies_shop ON shop_replies (shop);

CREATE TABLE shop_reply_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reply uuid NOT NULL,
    shop uuid NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL,
    before jsonb,
    after jsonb NOT NULL
);
CREATE INDEX shop_reply_history_reply ON shop_reply_history (reply, id);

CREATE TABLE personal_replies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner text NOT NULL DEFAULT current_user,
    group_path text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    body text NOT NULL,
    code text NOT NULL DEFAULT '',
    version integer NOT NULL DEFAULT 1,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_replies_owner ON personal_replies (owner);

-- Server time, the writer, and the version check (see the module docstring).
CREATE FUNCTION kefu_shop_reply_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
    ELSE
        IF NEW.id <> OLD.id OR NEW.shop <> OLD.shop THEN
            RAISE EXCEPTION '话术的编号和店铺不可更改 / a shop reply keeps its id and shop'
                USING ERRCODE = 'KF400';
        END IF;
        IF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
            RAISE EXCEPTION '店铺话术已被他人修改，请对比后重试 / stale shop reply: you edited version %, the server has version %',
                NEW.version - 1, OLD.version
                USING ERRCODE = 'KF409', HINT = 'read the reply again and re-apply your edit';
        END IF;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := current_user;
    RETURN NEW;
END $$;
CREATE TRIGGER shop_replies_stamp BEFORE INSERT OR UPDATE ON shop_replies
    FOR EACH ROW EXECUTE FUNCTION kefu_shop_reply_stamp();

CREATE FUNCTION kefu_shop_reply_history() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO shop_reply_history (reply, shop, changed_by, changed_at, before, after)
    VALUES (NEW.id, NEW.shop, NEW.updated_by, NEW.updated_at,
            CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END, to_jsonb(NEW));
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION kefu_shop_reply_history() FROM PUBLIC;
CREATE TRIGGER shop_replies_history AFTER INSERT OR UPDATE ON shop_replies
    FOR EACH ROW EXECUTE FUNCTION kefu_shop_reply_history();

CREATE FUNCTION kefu_personal_reply_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
    ELSE
        IF NEW.id <> OLD.id OR NEW.owner <> OLD.owner THEN
            RAISE EXCEPTION '话术的编号和所有者不可更改 / a personal reply keeps its id and owner'
                USING ERRCODE = 'KF400';
        END IF;
        NEW.version := OLD.version + 1;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER personal_replies_stamp BEFORE INSERT OR UPDATE ON personal_replies
    FOR EACH ROW EXECUTE FUNCTION kefu_personal_reply_stamp();

CREATE FUNCTION update_shop_reply(p_id uuid, p_expected_version integer, p_group_path text,
                                  p_title text, p_body text, p_code text)
RETURNS shop_replies LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE r shop_replies;
BEGIN
    UPDATE shop_replies SET group_path = p_group_path, title = p_title, body = p_body, code = p_code,
                            version = p_expected_version + 1
    WHERE id = p_id RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION '没有这条店铺话术 / no such shop reply: %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN r;
END $$;

CREATE FUNCTION delete_shop_reply(p_id uuid, p_expected_version integer)
RETURNS shop_replies LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE r shop_replies;
BEGIN
    UPDATE shop_replies SET deleted = true, version = p_expected_version + 1
    WHERE id = p_id RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION '没有这条店铺话术 / no such shop reply: %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN r;
END $$;

ALTER TABLE shop_replies ENABLE ROW LEVEL SECURITY;
CREATE POLICY shop_replies_read ON shop_replies FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY shop_replies_insert ON shop_replies FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY shop_replies_update ON shop_replies FOR UPDATE
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE shop_reply_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY shop_reply_history_read ON shop_reply_history FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE personal_replies ENABLE ROW LEVEL SECURITY;
CREATE POLICY personal_replies_own ON personal_replies
    USING (owner = current_user) WITH CHECK (owner = current_user);

-- What each team's groups may do (RLS then narrows the rows). A later step that adds a table
-- replaces this function and calls it for every team.
CREATE FUNCTION kefu_team_grants(p_team text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    agent text := format('kefu_%s_agent', p_team);
    supervisor text := format('kefu_%s_supervisor', p_team);
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), agent);
    EXECUTE format('GRANT SELECT ON kefu_schema, shops, shop_replies TO %I', agent);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON personal_replies TO %I', agent);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_shops_of(text) TO %I', agent);
    EXECUTE format('GRANT INSERT, UPDATE ON shop_replies TO %I', supervisor);
    EXECUTE format('GRANT SELECT ON shop_reply_history TO %I', supervisor);
END $$;
REVOKE ALL ON FUNCTION kefu_team_grants(text) FROM PUBLIC;
"""),
    Step(3, "change feed, idempotent operations", r"""
-- The fields a panel keeps for a reply, so a shop reply arrives whole.
ALTER TABLE shop_replies ADD COLUMN language text NOT NULL DEFAULT 'zh',
    ADD COLUMN platforms jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN angle text;

-- The change feed. Every synced row carries the id of the transaction that last wrote it; a puller
-- reads, in one REPEATABLE READ snapshot, the rows with cursor <= xid < the snapshot's xmin (every
-- transaction below xmin has ended, so none can still commit into the range) ordered by (xid, id),
-- and keeps xmin as its next cursor. A sequence number alone loses the row of a transaction that
-- took it early and committed late; an xid below xmin cannot be late. Rows are updated in place:
-- a reader only ever needs the newest version, and a row rewritten later moves past the cursor.
ALTER TABLE shop_replies ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE personal_replies ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX shop_replies_feed ON shop_replies (xid, id);
CREATE INDEX personal_replies_feed ON personal_replies (owner, xid, id);

CREATE FUNCTION kefu_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.xid := pg_current_xact_id();
    RETURN NEW;
END $$;
CREATE TRIGGER zz_shop_replies_xid BEFORE INSERT OR UPDATE ON shop_replies
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_personal_replies_xid BEFORE INSERT OR UPDATE ON personal_replies
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();

-- Wake the pullers: once per statement, with a constant empty payload. PostgreSQL folds identical
-- notifications of one transaction into one, so a transaction sends at most one, and it carries no
-- id or text at all (the feed says what changed, to those allowed to read it).
CREATE FUNCTION kefu_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kefu_changes', '');
    RETURN NULL;
END $$;
CREATE TRIGGER shop_replies_wake AFTER INSERT OR UPDATE ON shop_replies
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER personal_replies_wake AFTER INSERT OR UPDATE ON personal_replies
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

-- Operations applied, by the uuid the client gave them in its outbox: the client inserts the uuid
-- in the same transaction as the change (ON CONFLICT DO NOTHING), so a resend after a crash or a
-- lost acknowledgement finds it and changes nothing.
CREATE TABLE kefu_ops (
    op uuid PRIMARY KEY,
    role text NOT NULL DEFAULT current_user,
    applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE kefu_ops ENABLE ROW LEVEL SECURITY;
CREATE POLICY kefu_ops_own ON kefu_ops USING (role = current_user) WITH CHECK (role = current_user);

CREATE OR REPLACE FUNCTION kefu_team_grants(p_team text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    agent text := format('kefu_%s_agent', p_team);
    supervisor text := format('kefu_%s_supervisor', p_team);
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), agent);
    EXECUTE format('GRANT SELECT ON kefu_schema, shops, shop_replies TO %I', agent);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON personal_replies TO %I', agent);
    EXECUTE format('GRANT SELECT, INSERT ON kefu_ops TO %I', agent);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_shops_of(text) TO %I', agent);
    EXECUTE format('GRANT INSERT, UPDATE ON shop_replies TO %I', supervisor);
    EXECUTE format('GRANT SELECT ON shop_reply_history TO %I', supervisor);
END $$;
SELECT kefu_team_grants(id) FROM teams;
"""),
)

SCHEMA_VERSION = STEPS[-1].number


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this client (newer, or a frozen step differs)."""


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
