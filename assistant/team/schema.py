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
    Step(4, "shared buyers, claims, chases, phones", r"""
-- Buyers shared by a team (shared/team.md, "Identity and conflicts"). Every synced table carries the
-- step-3 feed column (xid, stamped by zz_*_xid, indexed with the row's id) and wakes the pullers.
--
-- Holding a buyer (holder, held_until) is a lease that changes ONLY through the kefu_* functions
-- below. The mechanism is column privileges, not a session flag: agents are granted INSERT and
-- UPDATE on the buyer columns they may write and on nothing else, so `UPDATE buyers SET holder`
-- is refused by PostgreSQL itself (42501) whatever the client. The functions are SECURITY DEFINER,
-- run as the schema owner (who holds every column) and decide in one place who may take a buyer.
-- A `SET LOCAL kefu.claiming = 'on'` flag read by a trigger would not be sound: any session may
-- set a custom setting. Inside the functions the caller is session_user (the login, which SET ROLE
-- cannot change); they refuse a buyer outside the caller's shops as if it did not exist (P0002).
--
-- Leases: p_until is the end of the shift + grace as the client computes it; the server clamps it
-- to at most now() + 16 hours (a PC clock set ahead cannot hold a buyer for days) and refuses one
-- already past (KF400). A lease is free when held_until <= now(); nothing needs to clear it.
-- kefu_claim locks the buyer row (SELECT ... FOR UPDATE) before deciding, so concurrent claims
-- queue on the row and the later ones see the winner: exactly one holder, one 'claim' log row.
--
-- Collisions: a chase is stored whatever the lease (append-only: nothing an agent sent is lost),
-- but a chase by someone other than the holder of an unexpired lease gets collision = true and a
-- collisions row that the holder, the chaser and the shop's supervisors can read.
--
-- Errors: P0002 no such buyer (or not in your shops), KF423 held by someone else, KF400 a bad
-- argument, 42501 not allowed (not a supervisor). Messages carry ids and role names, never a
-- nickname or a phone; kefu_upsert_buyer uses ON CONFLICT so a duplicate never logs a key DETAIL.
CREATE TABLE buyers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop uuid NOT NULL REFERENCES shops,
    platform text NOT NULL,
    nickname text NOT NULL,
    tz text,
    language text,
    state text NOT NULL DEFAULT 'following',
    starred boolean NOT NULL DEFAULT false,
    cadence_id text,
    holder text REFERENCES agents (role),
    held_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (shop, platform, nickname),
    UNIQUE (id, shop),
    CHECK ((holder IS NULL) = (held_until IS NULL))
);
CREATE INDEX buyers_feed ON buyers (xid, id);
CREATE INDEX buyers_holder ON buyers (holder) WHERE holder IS NOT NULL;

-- Marks merge as sets: adding is an upsert with present = true, removing one with present = false.
-- shop is filled from the buyer when the client leaves it out; id gives the feed its (xid, id) key.
CREATE TABLE buyer_marks (
    buyer uuid NOT NULL,
    mark uuid NOT NULL,
    present boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    shop uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (buyer, mark),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop)
);
CREATE INDEX buyer_marks_feed ON buyer_marks (xid, id);

-- Append-only (agents hold SELECT and INSERT only). `at` is the server's time; client_at the PC's.
CREATE TABLE buyer_notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer uuid NOT NULL,
    shop uuid NOT NULL,
    author text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now(),
    body text NOT NULL,
    client_at timestamptz,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop)
);
CREATE INDEX buyer_notes_feed ON buyer_notes (xid, id);
CREATE INDEX buyer_notes_buyer ON buyer_notes (buyer, at);

CREATE TABLE chases (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer uuid NOT NULL,
    shop uuid NOT NULL,
    author text NOT NULL DEFAULT current_user,
    sent_at timestamptz NOT NULL DEFAULT now(),
    client_sent_at timestamptz,
    angle text,
    reply_title text,
    collision boolean NOT NULL DEFAULT false,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop)
);
CREATE INDEX chases_feed ON chases (xid, id);
CREATE INDEX chases_buyer ON chases (buyer, sent_at);

CREATE TABLE collisions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer uuid NOT NULL REFERENCES buyers,
    shop uuid NOT NULL,
    chase uuid NOT NULL REFERENCES chases,
    holder text NOT NULL,
    chaser text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX collisions_feed ON collisions (xid, id);

-- Written only by the claim functions (nobody holds INSERT): it cannot be forged.
CREATE TABLE claim_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer uuid NOT NULL REFERENCES buyers,
    shop uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('claim', 'takeover', 'reassign', 'release', 'handover')),
    from_role text,
    to_role text,
    by_role text NOT NULL,
    reason text,
    at timestamptz NOT NULL DEFAULT now(),
    xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX claim_log_feed ON claim_log (xid, id);
CREATE INDEX claim_log_buyer ON claim_log (buyer, id);

-- Phones: agents may record one but never select it; kefu_reveal_phone returns one and audits it.
-- Not in the feed.
CREATE TABLE buyer_phones (
    buyer uuid PRIMARY KEY,
    shop uuid NOT NULL,
    phone text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop)
);
CREATE TABLE phone_reveals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buyer uuid NOT NULL REFERENCES buyers,
    shop uuid NOT NULL,
    by_role text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phone_reveals_buyer ON phone_reveals (buyer, id);

-- ---------------------------------------------------------------- triggers
CREATE FUNCTION kefu_buyer_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.id <> OLD.id OR NEW.shop <> OLD.shop OR NEW.platform <> OLD.platform
                             OR NEW.nickname <> OLD.nickname) THEN
        RAISE EXCEPTION '买家的编号、店铺、平台和昵称不可更改 / a buyer keeps its id, shop, platform and nickname'
            USING ERRCODE = 'KF400';
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER buyers_stamp BEFORE INSERT OR UPDATE ON buyers
    FOR EACH ROW EXECUTE FUNCTION kefu_buyer_stamp();

-- A row about a buyer takes the buyer's shop when the client leaves it out. SECURITY INVOKER: the
-- caller's policies apply, so a buyer of another shop is "no such buyer".
CREATE FUNCTION kefu_buyer_shop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.shop IS NULL THEN
        SELECT b.shop INTO NEW.shop FROM buyers b WHERE b.id = NEW.buyer;
        IF NEW.shop IS NULL THEN
            RAISE EXCEPTION '没有这个买家 / no such buyer: %', NEW.buyer USING ERRCODE = 'no_data_found';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER a_buyer_marks_shop BEFORE INSERT ON buyer_marks FOR EACH ROW EXECUTE FUNCTION kefu_buyer_shop();
CREATE TRIGGER a_buyer_notes_shop BEFORE INSERT ON buyer_notes FOR EACH ROW EXECUTE FUNCTION kefu_buyer_shop();
CREATE TRIGGER a_chases_shop BEFORE INSERT ON chases FOR EACH ROW EXECUTE FUNCTION kefu_buyer_shop();
CREATE TRIGGER a_buyer_phones_shop BEFORE INSERT ON buyer_phones FOR EACH ROW EXECUTE FUNCTION kefu_buyer_shop();

CREATE FUNCTION kefu_row_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.buyer <> OLD.buyer OR NEW.shop <> OLD.shop) THEN
        RAISE EXCEPTION '不可改到别的买家 / a row keeps its buyer and shop' USING ERRCODE = 'KF400';
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER buyer_marks_stamp BEFORE INSERT OR UPDATE ON buyer_marks
    FOR EACH ROW EXECUTE FUNCTION kefu_row_stamp();
CREATE TRIGGER buyer_phones_stamp BEFORE INSERT OR UPDATE ON buyer_phones
    FOR EACH ROW EXECUTE FUNCTION kefu_row_stamp();

CREATE FUNCTION kefu_note_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER buyer_notes_stamp BEFORE INSERT ON buyer_notes FOR EACH ROW EXECUTE FUNCTION kefu_note_stamp();

-- The collision rule (see above): the server's time and the lease as it stands when the chase lands.
CREATE FUNCTION kefu_chase_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    NEW.sent_at := now();
    SELECT b.holder INTO h FROM buyers b WHERE b.id = NEW.buyer AND b.held_until > now();
    NEW.collision := h IS NOT NULL AND h <> NEW.author;
    RETURN NEW;
END $$;
CREATE TRIGGER chases_stamp BEFORE INSERT ON chases FOR EACH ROW EXECUTE FUNCTION kefu_chase_stamp();

-- SECURITY DEFINER like the history trigger: nobody holds INSERT on collisions.
CREATE FUNCTION kefu_chase_collision() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO collisions (buyer, shop, chase, holder, chaser)
    SELECT NEW.buyer, NEW.shop, NEW.id, b.holder, NEW.author FROM buyers b WHERE b.id = NEW.buyer;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION kefu_chase_collision() FROM PUBLIC;
CREATE TRIGGER chases_collision AFTER INSERT ON chases
    FOR EACH ROW WHEN (NEW.collision) EXECUTE FUNCTION kefu_chase_collision();

CREATE TRIGGER zz_buyers_xid BEFORE INSERT OR UPDATE ON buyers FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_buyer_marks_xid BEFORE INSERT OR UPDATE ON buyer_marks FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_buyer_notes_xid BEFORE INSERT OR UPDATE ON buyer_notes FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_chases_xid BEFORE INSERT OR UPDATE ON chases FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_collisions_xid BEFORE INSERT OR UPDATE ON collisions FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_claim_log_xid BEFORE INSERT OR UPDATE ON claim_log FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER buyers_wake AFTER INSERT OR UPDATE ON buyers FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER buyer_marks_wake AFTER INSERT OR UPDATE ON buyer_marks FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER buyer_notes_wake AFTER INSERT OR UPDATE ON buyer_notes FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER chases_wake AFTER INSERT OR UPDATE ON chases FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER collisions_wake AFTER INSERT OR UPDATE ON collisions FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER claim_log_wake AFTER INSERT OR UPDATE ON claim_log FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

-- ---------------------------------------------------------------- who is who
-- The shops p_role supervises: those it serves when it is in its team's supervisor group. For
-- policies (as an init-plan, like kefu_shops_of) and for the functions below.
CREATE FUNCTION kefu_supervised_shops(p_role text) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(s.shop), '{}')
    FROM agent_shops s JOIN agents a ON a.role = s.role
    WHERE s.role = p_role AND a.active AND pg_has_role(session_user, p_role, 'MEMBER')
      AND pg_has_role(p_role, format('kefu_%s_supervisor', a.team), 'MEMBER')
$$;
REVOKE ALL ON FUNCTION kefu_supervised_shops(text) FROM PUBLIC;

-- The caller is the schema owner (an admin): inside a SECURITY DEFINER function current_user is
-- the owner and session_user the caller.
CREATE FUNCTION kefu_is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT pg_has_role(session_user, current_user, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION kefu_is_admin() FROM PUBLIC;

-- The agents of the caller's team, for "王五 跟进中" beside a holder from the feed.
CREATE FUNCTION kefu_agents() RETURNS TABLE (role text, display_name text, active boolean, supervisor boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT a.role, a.display_name, a.active, pg_has_role(a.role, format('kefu_%s_supervisor', a.team), 'MEMBER')
    FROM agents a
    WHERE a.team = (SELECT m.team FROM agents m WHERE m.role = session_user)
    ORDER BY a.role
$$;
REVOKE ALL ON FUNCTION kefu_agents() FROM PUBLIC;

-- The end of a lease: at most 16 hours from now, never in the past (see above).
CREATE FUNCTION kefu_lease_end(p_until timestamptz) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_until IS NOT NULL AND p_until <= now() THEN
        RAISE EXCEPTION '认领的截止时间已过 / a lease must end in the future (%)', p_until USING ERRCODE = 'KF400';
    END IF;
    RETURN least(coalesce(p_until, now() + interval '16 hours'), now() + interval '16 hours');
END $$;

-- The buyer, locked until the end of the caller's transaction; P0002 unless the caller serves its
-- shop (or, when p_admin_ok, is an admin).
CREATE FUNCTION kefu_lock_buyer(p_buyer uuid, p_admin_ok boolean) RETURNS buyers
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE b buyers;
BEGIN
    SELECT * INTO b FROM buyers WHERE id = p_buyer FOR UPDATE;
    IF NOT FOUND OR NOT (b.shop = ANY (kefu_shops_of(session_user)) OR (p_admin_ok AND kefu_is_admin())) THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    RETURN b;
END $$;
REVOKE ALL ON FUNCTION kefu_lock_buyer(uuid, boolean) FROM PUBLIC;

-- ---------------------------------------------------------------- the interface
-- One row per (shop, platform, nickname): the first id wins and every later caller gets it back
-- (the client re-keys its row). SECURITY INVOKER: the caller's shops and policies apply.
CREATE FUNCTION kefu_upsert_buyer(p_id uuid, p_shop uuid, p_platform text, p_nickname text) RETURNS uuid
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public AS $$
DECLARE v uuid;
BEGIN
    IF p_id IS NULL OR p_shop IS NULL OR p_platform IS NULL OR p_nickname IS NULL THEN
        RAISE EXCEPTION '买家缺少编号、店铺、平台或昵称 / a buyer needs an id, a shop, a platform and a nickname'
            USING ERRCODE = 'KF400';
    END IF;
    INSERT INTO buyers (id, shop, platform, nickname) VALUES (p_id, p_shop, p_platform, p_nickname)
        ON CONFLICT DO NOTHING;
    SELECT b.id INTO v FROM buyers b WHERE b.shop = p_shop AND b.platform = p_platform AND b.nickname = p_nickname;
    IF v IS NULL THEN  -- the id is another buyer's
        RAISE EXCEPTION '买家编号已被占用 / buyer id % belongs to another buyer', p_id USING ERRCODE = 'KF400';
    END IF;
    RETURN v;
END $$;

CREATE FUNCTION kefu_claim(p_buyer uuid, p_until timestamptz)
RETURNS TABLE (holder text, holder_name text, held_until timestamptz, won boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    b buyers := kefu_lock_buyer(p_buyer, false);
    v_won boolean := b.holder IS NULL OR b.holder = me OR b.held_until <= now();
BEGIN
    IF v_won THEN
        UPDATE buyers x SET holder = me, held_until = kefu_lease_end(p_until) WHERE x.id = p_buyer;
        IF b.holder IS DISTINCT FROM me THEN
            INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
            VALUES (p_buyer, b.shop, 'claim', b.holder, me, me);
        END IF;
    END IF;
    RETURN QUERY SELECT x.holder, a.display_name, x.held_until, v_won
        FROM buyers x LEFT JOIN agents a ON a.role = x.holder WHERE x.id = p_buyer;
END $$;

CREATE FUNCTION kefu_take_over(p_buyer uuid, p_until timestamptz, p_reason text)
RETURNS TABLE (holder text, holder_name text, held_until timestamptz, won boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    b buyers := kefu_lock_buyer(p_buyer, false);
BEGIN
    UPDATE buyers x SET holder = me, held_until = kefu_lease_end(p_until) WHERE x.id = p_buyer;
    IF b.holder IS DISTINCT FROM me THEN
        INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role, reason)
        VALUES (p_buyer, b.shop, 'takeover', b.holder, me, me, p_reason);
    END IF;
    RETURN QUERY SELECT x.holder, a.display_name, x.held_until, true
        FROM buyers x LEFT JOIN agents a ON a.role = x.holder WHERE x.id = p_buyer;
END $$;

CREATE FUNCTION kefu_reassign(p_buyer uuid, p_to text, p_until timestamptz)
RETURNS TABLE (holder text, holder_name text, held_until timestamptz, won boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    b buyers := kefu_lock_buyer(p_buyer, true);
BEGIN
    IF NOT (b.shop = ANY (kefu_supervised_shops(me)) OR kefu_is_admin()) THEN
        RAISE EXCEPTION '只有主管可以改派买家 / only a supervisor of the shop may reassign a buyer'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM agent_shops s JOIN agents a ON a.role = s.role
                   WHERE s.role = p_to AND s.shop = b.shop AND a.active) THEN
        RAISE EXCEPTION '% 不是这家店在职的客服 / % is not an active agent of the shop', p_to, p_to
            USING ERRCODE = 'KF400';
    END IF;
    UPDATE buyers x SET holder = p_to, held_until = kefu_lease_end(p_until) WHERE x.id = p_buyer;
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    VALUES (p_buyer, b.shop, 'reassign', b.holder, p_to, me);
    RETURN QUERY SELECT x.holder, a.display_name, x.held_until, true
        FROM buyers x LEFT JOIN agents a ON a.role = x.holder WHERE x.id = p_buyer;
END $$;

-- The holder, anyone once the lease has expired, or a supervisor; false when nobody held it.
CREATE FUNCTION kefu_release(p_buyer uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    b buyers := kefu_lock_buyer(p_buyer, true);
BEGIN
    IF b.holder IS NULL THEN
        RETURN false;
    END IF;
    IF NOT (b.holder = me OR b.held_until <= now() OR b.shop = ANY (kefu_supervised_shops(me)) OR kefu_is_admin()) THEN
        RAISE EXCEPTION '% 跟进中，只有本人或主管可以释放 / held by % (%): only the holder or a supervisor may release it',
            (SELECT a.display_name FROM agents a WHERE a.role = b.holder),
            (SELECT a.display_name FROM agents a WHERE a.role = b.holder), b.holder USING ERRCODE = 'KF423';
    END IF;
    UPDATE buyers x SET holder = NULL, held_until = NULL WHERE x.id = p_buyer;
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    VALUES (p_buyer, b.shop, 'release', b.holder, NULL, me);
    RETURN true;
END $$;

-- Extends every unexpired lease the caller holds in the shops it serves; no log row.
CREATE FUNCTION kefu_renew(p_until timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_until timestamptz := kefu_lease_end(p_until);
    n integer;
BEGIN
    UPDATE buyers x SET held_until = greatest(x.held_until, v_until)
    WHERE x.holder = session_user AND x.held_until > now() AND x.shop = ANY (kefu_shops_of(session_user));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Every buyer p_role holds (expired or not) returns to the pool: by an admin, a supervisor of its
-- team, or p_role itself (signing out to the pool).
CREATE FUNCTION kefu_release_agent(p_role text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    v_team text := (SELECT a.team FROM agents a WHERE a.role = p_role);
    n integer;
BEGIN
    IF v_team IS NULL THEN
        RAISE EXCEPTION '没有这个客服 / no such agent: %', p_role USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT (p_role = me OR kefu_is_admin() OR pg_has_role(me, format('kefu_%s_supervisor', v_team), 'MEMBER')) THEN
        RAISE EXCEPTION '只有主管可以释放别人的买家 / only a supervisor may release another agent''s buyers'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH released AS (
        UPDATE buyers x SET holder = NULL, held_until = NULL WHERE x.holder = p_role RETURNING x.id, x.shop
    )
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    SELECT r.id, r.shop, 'release', p_role, NULL, me FROM released r;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- An agent who left: no shops any more (every policy then hides everything from it) and its
-- buyers back to the pool. By an admin or a supervisor of its team.
CREATE FUNCTION kefu_disable_agent(p_role text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE v_team text := (SELECT a.team FROM agents a WHERE a.role = p_role);
BEGIN
    IF v_team IS NULL THEN
        RAISE EXCEPTION '没有这个客服 / no such agent: %', p_role USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT (kefu_is_admin() OR pg_has_role(session_user, format('kefu_%s_supervisor', v_team), 'MEMBER')) THEN
        RAISE EXCEPTION '只有主管可以停用客服 / only a supervisor may disable an agent'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE agents SET active = false WHERE role = p_role;
    RETURN kefu_release_agent(p_role);
END $$;

-- 交班: the caller's unexpired leases go to p_to where p_to serves the buyer's shop, the rest (or
-- all, when p_to is NULL) to the pool. Returns how many buyers p_to received.
CREATE FUNCTION kefu_hand_over(p_to text, p_until timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    v_until timestamptz := kefu_lease_end(p_until);
    v_to uuid[] := CASE WHEN p_to IS NULL THEN '{}'::uuid[] ELSE
        (SELECT coalesce(array_agg(s.shop), '{}') FROM agent_shops s JOIN agents a ON a.role = s.role
         WHERE s.role = p_to AND a.active AND a.team = (SELECT m.team FROM agents m WHERE m.role = me)) END;
    n integer;
BEGIN
    IF p_to IS NOT NULL AND cardinality(v_to) = 0 THEN
        RAISE EXCEPTION '% 不是本团队在职的客服 / % is not an active agent of your team', p_to, p_to
            USING ERRCODE = 'KF400';
    END IF;
    WITH moved AS (
        UPDATE buyers x SET holder = p_to, held_until = v_until
        WHERE x.holder = me AND x.held_until > now() AND x.shop = ANY (v_to) RETURNING x.id, x.shop
    )
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    SELECT m.id, m.shop, 'handover', me, p_to, me FROM moved m;
    GET DIAGNOSTICS n = ROW_COUNT;
    WITH released AS (
        UPDATE buyers x SET holder = NULL, held_until = NULL
        WHERE x.holder = me AND x.held_until > now() RETURNING x.id, x.shop
    )
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    SELECT r.id, r.shop, 'release', me, NULL, me FROM released r;
    RETURN n;
END $$;

-- Records (or replaces) a buyer's phone; agents may also INSERT/UPDATE buyer_phones directly.
CREATE FUNCTION kefu_set_phone(p_buyer uuid, p_phone text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE v_shop uuid := (SELECT b.shop FROM buyers b WHERE b.id = p_buyer);
BEGIN
    IF v_shop IS NULL OR NOT v_shop = ANY (kefu_shops_of(session_user)) THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    IF p_phone IS NULL OR p_phone = '' THEN
        RAISE EXCEPTION '电话为空 / empty phone' USING ERRCODE = 'KF400';
    END IF;
    INSERT INTO buyer_phones (buyer, shop, phone) VALUES (p_buyer, v_shop, p_phone)
        ON CONFLICT (buyer) DO UPDATE SET phone = EXCLUDED.phone;
END $$;

-- The only way to read a phone: for an agent of the buyer's shop, and every reveal is audited.
-- NULL (and no audit row) when no phone is recorded.
CREATE FUNCTION kefu_reveal_phone(p_buyer uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_shop uuid := (SELECT b.shop FROM buyers b WHERE b.id = p_buyer);
    v_phone text;
BEGIN
    IF v_shop IS NULL OR NOT v_shop = ANY (kefu_shops_of(session_user)) THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    SELECT p.phone INTO v_phone FROM buyer_phones p WHERE p.buyer = p_buyer;
    IF v_phone IS NOT NULL THEN
        INSERT INTO phone_reveals (buyer, shop, by_role) VALUES (p_buyer, v_shop, session_user);
    END IF;
    RETURN v_phone;
END $$;

REVOKE ALL ON FUNCTION kefu_upsert_buyer(uuid, uuid, text, text), kefu_claim(uuid, timestamptz),
    kefu_take_over(uuid, timestamptz, text), kefu_reassign(uuid, text, timestamptz), kefu_release(uuid),
    kefu_renew(timestamptz), kefu_release_agent(text), kefu_disable_agent(text),
    kefu_hand_over(text, timestamptz), kefu_set_phone(uuid, text), kefu_reveal_phone(uuid),
    kefu_lease_end(timestamptz) FROM PUBLIC;

-- ---------------------------------------------------------------- row-level security
ALTER TABLE buyers ENABLE ROW LEVEL SECURITY;
CREATE POLICY buyers_read ON buyers FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY buyers_insert ON buyers FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
-- A held buyer is the holder's (or a supervisor's) to edit: for anyone else the row is not there.
CREATE POLICY buyers_update ON buyers FOR UPDATE
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (holder IS NULL OR holder = current_user::text OR held_until <= now()
                OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])))
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE buyer_marks ENABLE ROW LEVEL SECURITY;
CREATE POLICY buyer_marks_shop ON buyer_marks
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE buyer_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY buyer_notes_read ON buyer_notes FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY buyer_notes_insert ON buyer_notes FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]) AND author = current_user::text);

ALTER TABLE chases ENABLE ROW LEVEL SECURITY;
CREATE POLICY chases_read ON chases FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY chases_insert ON chases FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]) AND author = current_user::text);

ALTER TABLE collisions ENABLE ROW LEVEL SECURITY;
CREATE POLICY collisions_read ON collisions FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (holder = current_user::text OR chaser = current_user::text
                OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])));

ALTER TABLE claim_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY claim_log_read ON claim_log FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (from_role = current_user::text OR to_role = current_user::text
                OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])));

-- Row policies for recording a phone; the phone column itself is never granted for SELECT.
ALTER TABLE buyer_phones ENABLE ROW LEVEL SECURITY;
CREATE POLICY buyer_phones_shop ON buyer_phones
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE phone_reveals ENABLE ROW LEVEL SECURITY;
CREATE POLICY phone_reveals_read ON phone_reveals FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (by_role = current_user::text
                OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])));

-- Every earlier grant, then step 4's. Column lists are the lease rule (see above): holder,
-- held_until, the stamps and xid are not among them. No DELETE anywhere: a buyer changes state.
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
    -- step 4
    EXECUTE format('GRANT SELECT ON buyers, buyer_marks, buyer_notes, chases, collisions, claim_log, '
                   'phone_reveals TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, platform, nickname, tz, language, state, starred, cadence_id), '
                   'UPDATE (tz, language, state, starred, cadence_id) ON buyers TO %I', agent);
    EXECUTE format('GRANT INSERT (id, buyer, mark, present, shop), UPDATE (present) ON buyer_marks TO %I', agent);
    EXECUTE format('GRANT INSERT ON buyer_notes, chases TO %I', agent);
    EXECUTE format('GRANT SELECT (buyer, shop), INSERT (buyer, shop, phone), UPDATE (phone) '
                   'ON buyer_phones TO %I', agent);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_supervised_shops(text), kefu_agents(), '
                   'kefu_lease_end(timestamptz), kefu_upsert_buyer(uuid, uuid, text, text), '
                   'kefu_claim(uuid, timestamptz), kefu_take_over(uuid, timestamptz, text), '
                   'kefu_reassign(uuid, text, timestamptz), kefu_release(uuid), kefu_renew(timestamptz), '
                   'kefu_release_agent(text), kefu_disable_agent(text), kefu_hand_over(text, timestamptz), '
                   'kefu_set_phone(uuid, text), kefu_reveal_phone(uuid) TO %I', agent);
END $$;
SELECT kefu_team_grants(id) FROM teams;
"""),
    Step(5, "reminders with one owner, shop promotions, the pool", r"""
-- Reminders live on the server so that each has exactly one owner, and a handover moves the owner
-- (the receiver gets the same reminder, same due time) instead of copying it (shared/team.md).
-- owner NULL: in the shop's pool, picked up by the next agent who signs in (kefu_pick_up_pool).
-- prev_owner: the owner before the last move, so that its puller still reads the row once and
-- learns the reminder has left (the read policy is owner OR prev_owner).
-- Nobody writes these tables directly: kefu_put_reminder (the owner's own changes),
-- kefu_add_promotion / kefu_delete_promotion (a supervisor's promotion wave, one statement for
-- all its reminders: one wake-up however many) and the claim_log trigger below (every change of
-- holder moves the buyer's pending reminders with it).
CREATE TABLE promotions (
    id uuid PRIMARY KEY,
    shop uuid NOT NULL REFERENCES shops,
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    start_at timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (id, shop)
);
CREATE INDEX promotions_feed ON promotions (xid, id);

CREATE TABLE reminders (
    id uuid PRIMARY KEY,
    buyer uuid NOT NULL,
    shop uuid NOT NULL,
    owner text REFERENCES agents (role),
    prev_owner text,
    kind text NOT NULL CHECK (kind IN ('chase', 'wave')),
    promotion uuid,
    cadence_id text NOT NULL,
    step integer NOT NULL DEFAULT 0 CHECK (step >= 0),
    due_at timestamptz NOT NULL,
    planned_at timestamptz,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'snoozed', 'cancelled')),
    outcome text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop),
    FOREIGN KEY (promotion, shop) REFERENCES promotions (id, shop)
);
CREATE INDEX reminders_feed ON reminders (xid, id);
CREATE INDEX reminders_buyer ON reminders (buyer) WHERE state = 'pending';
CREATE INDEX reminders_pool ON reminders (shop) WHERE state = 'pending' AND owner IS NULL;

CREATE TRIGGER zz_promotions_xid BEFORE INSERT OR UPDATE ON promotions FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_reminders_xid BEFORE INSERT OR UPDATE ON reminders FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER promotions_wake AFTER INSERT OR UPDATE ON promotions FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER reminders_wake AFTER INSERT OR UPDATE ON reminders FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

CREATE FUNCTION kefu_reminder_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER reminders_stamp BEFORE INSERT OR UPDATE ON reminders
    FOR EACH ROW EXECUTE FUNCTION kefu_reminder_stamp();
CREATE TRIGGER promotions_stamp BEFORE INSERT OR UPDATE ON promotions
    FOR EACH ROW EXECUTE FUNCTION kefu_reminder_stamp();

-- A pick-up from the pool is a claim of its own kind in the log.
ALTER TABLE claim_log DROP CONSTRAINT claim_log_kind_check;
ALTER TABLE claim_log ADD CONSTRAINT claim_log_kind_check
    CHECK (kind IN ('claim', 'takeover', 'reassign', 'release', 'handover', 'pickup'));

-- Every change of a buyer's holder is logged (step 4), so the log is where reminders follow it:
-- - takeover, reassign, handover, pickup: the pending reminders move intact to the new holder
--   (same ids, same due times: a reminder fires on one panel, the receiver's);
-- - release (交班 to the pool, an agent disabled): they go to the pool with the buyer;
-- - claim (a buyer nobody held, or whose lease ran out): the claimant's own panel plans the
--   cadence from now on, so earlier owners' pending reminders are cancelled (and moved, so
--   both pullers read the change).
CREATE FUNCTION kefu_reminders_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NEW.kind = 'claim' THEN
        UPDATE reminders r SET prev_owner = r.owner, owner = NEW.to_role, state = 'cancelled', outcome = 'claimed'
        WHERE r.buyer = NEW.buyer AND r.state = 'pending' AND r.owner IS DISTINCT FROM NEW.to_role;
    ELSE
        UPDATE reminders r SET prev_owner = r.owner, owner = NEW.to_role
        WHERE r.buyer = NEW.buyer AND r.state = 'pending' AND r.owner IS DISTINCT FROM NEW.to_role;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION kefu_reminders_follow() FROM PUBLIC;
CREATE TRIGGER claim_log_reminders AFTER INSERT ON claim_log
    FOR EACH ROW EXECUTE FUNCTION kefu_reminders_follow();

-- The owner's own change of a reminder (created, done, snoozed, cancelled, moved). Returns 'ok';
-- 'not_owner' when the reminder has moved to someone else meanwhile (nothing changes: it is
-- theirs now); 'held' for a new reminder of a buyer another agent holds (not stored: it would
-- fire on a second panel). P0002 for a buyer outside the caller's shops. A promotion the server
-- does not know (this PC's own) is left out of the row.
CREATE FUNCTION kefu_put_reminder(p_id uuid, p_buyer uuid, p_kind text, p_promotion uuid, p_cadence text,
                                  p_step integer, p_due timestamptz, p_planned timestamptz, p_state text,
                                  p_outcome text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    v_shop uuid := (SELECT b.shop FROM buyers b WHERE b.id = p_buyer);
    r reminders;
BEGIN
    IF v_shop IS NULL OR NOT v_shop = ANY (kefu_shops_of(me)) THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    IF p_promotion IS NOT NULL AND NOT EXISTS (SELECT 1 FROM promotions p WHERE p.id = p_promotion AND p.shop = v_shop) THEN
        p_promotion := NULL;
    END IF;
    SELECT * INTO r FROM reminders x WHERE x.id = p_id FOR UPDATE;
    IF FOUND THEN
        IF r.buyer <> p_buyer THEN
            RAISE EXCEPTION '提醒不可改到别的买家 / a reminder keeps its buyer' USING ERRCODE = 'KF400';
        END IF;
        IF r.owner IS DISTINCT FROM me THEN
            RETURN 'not_owner';
        END IF;
        UPDATE reminders x SET kind = p_kind, promotion = p_promotion, cadence_id = p_cadence, step = p_step,
            due_at = p_due, planned_at = p_planned, state = p_state, outcome = p_outcome WHERE x.id = p_id;
        RETURN 'ok';
    END IF;
    IF EXISTS (SELECT 1 FROM buyers b WHERE b.id = p_buyer AND b.holder <> me AND b.held_until > now()) THEN
        RETURN 'held';
    END IF;
    INSERT INTO reminders (id, buyer, shop, owner, kind, promotion, cadence_id, step, due_at, planned_at, state, outcome)
    VALUES (p_id, p_buyer, v_shop, me, p_kind, p_promotion, p_cadence, p_step, p_due, p_planned, p_state, p_outcome);
    RETURN 'ok';
END $$;

-- A supervisor's promotion for one shop, with its whole wave in one statement (one wake-up for
-- 100k reminders). The arrays are the wave the supervisor's panel planned (ids, buyers, due and
-- planned times, in step). Each reminder belongs to the buyer's holder, or to the supervisor for
-- a buyer nobody holds (the supervisor's panel keeps those, as it planned). Idempotent by ids.
CREATE FUNCTION kefu_add_promotion(p_id uuid, p_shop uuid, p_name text, p_start timestamptz, p_cadence text,
                                   p_ids uuid[], p_buyers uuid[], p_due timestamptz[], p_planned timestamptz[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    n integer;
BEGIN
    IF NOT (p_shop = ANY (kefu_supervised_shops(me)) OR kefu_is_admin()) THEN
        RAISE EXCEPTION '只有主管可以给店铺添加活动 / only a supervisor of the shop may add its promotions'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_start IS NULL OR p_name IS NULL OR length(btrim(p_name)) = 0 THEN
        RAISE EXCEPTION '活动需要名称和开始时间 / a promotion needs a name and a start' USING ERRCODE = 'KF400';
    END IF;
    IF cardinality(p_ids) <> cardinality(p_buyers) OR cardinality(p_ids) <> cardinality(p_due)
       OR cardinality(p_ids) <> cardinality(p_planned) THEN
        RAISE EXCEPTION '活动提醒的数组长度不一致 / the wave arrays differ in length' USING ERRCODE = 'KF400';
    END IF;
    INSERT INTO promotions (id, shop, name, start_at) VALUES (p_id, p_shop, btrim(p_name), p_start)
        ON CONFLICT (id) DO NOTHING;
    INSERT INTO reminders (id, buyer, shop, owner, kind, promotion, cadence_id, step, due_at, planned_at)
    SELECT w.id, w.buyer, p_shop,
           CASE WHEN b.holder IS NOT NULL AND b.held_until > now() THEN b.holder ELSE me END,
           'wave', p_id, p_cadence, 0, w.due, w.planned
    FROM unnest(p_ids, p_buyers, p_due, p_planned) AS w (id, buyer, due, planned)
    JOIN buyers b ON b.id = w.buyer AND b.shop = p_shop
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Withdraws a shop promotion: a tombstone, and its pending wave reminders cancelled.
CREATE FUNCTION kefu_delete_promotion(p_id uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_shop uuid := (SELECT p.shop FROM promotions p WHERE p.id = p_id);
    n integer;
BEGIN
    IF v_shop IS NULL OR NOT (v_shop = ANY (kefu_shops_of(session_user)) OR kefu_is_admin()) THEN
        RAISE EXCEPTION '没有这个活动 / no such promotion: %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT (v_shop = ANY (kefu_supervised_shops(session_user)) OR kefu_is_admin()) THEN
        RAISE EXCEPTION '只有主管可以删除店铺活动 / only a supervisor of the shop may delete its promotions'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE promotions SET deleted = true WHERE id = p_id AND NOT deleted;
    UPDATE reminders SET state = 'cancelled', outcome = 'promotion_deleted' WHERE promotion = p_id AND state = 'pending';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Signing in: the caller takes every buyer of its shops whose reminders wait in the pool (a 交班
-- to the pool, an agent disabled) and that nobody holds now, with those reminders. SKIP LOCKED:
-- two agents signing in at once split the pool instead of waiting on each other. Returns how many.
CREATE FUNCTION kefu_pick_up_pool(p_until timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me text := session_user;
    v_until timestamptz := kefu_lease_end(p_until);
    n integer;
BEGIN
    WITH pool AS (
        SELECT b.id, b.shop, b.holder FROM buyers b
        WHERE b.shop = ANY (kefu_shops_of(me)) AND (b.holder IS NULL OR b.held_until <= now())
          AND EXISTS (SELECT 1 FROM reminders r WHERE r.buyer = b.id AND r.state = 'pending' AND r.owner IS NULL)
        FOR UPDATE OF b SKIP LOCKED
    ), taken AS (
        UPDATE buyers x SET holder = me, held_until = v_until FROM pool WHERE x.id = pool.id
        RETURNING x.id, x.shop, pool.holder AS was
    )
    INSERT INTO claim_log (buyer, shop, kind, from_role, to_role, by_role)
    SELECT t.id, t.shop, 'pickup', t.was, me, me FROM taken t;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION kefu_put_reminder(uuid, uuid, text, uuid, text, integer, timestamptz, timestamptz, text, text),
    kefu_add_promotion(uuid, uuid, text, timestamptz, text, uuid[], uuid[], timestamptz[], timestamptz[]),
    kefu_delete_promotion(uuid), kefu_pick_up_pool(timestamptz) FROM PUBLIC;

ALTER TABLE promotions ENABLE ROW LEVEL SECURITY;
CREATE POLICY promotions_read ON promotions FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
-- A reminder is its owner's (and, once, the previous owner's); a supervisor sees the shop's through
-- the report functions, not the feed: 100k wave rows must not land on every supervisor's PC.
ALTER TABLE reminders ENABLE ROW LEVEL SECURITY;
CREATE POLICY reminders_read ON reminders FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (owner = current_user::text OR prev_owner = current_user::text));

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
    -- step 4
    EXECUTE format('GRANT SELECT ON buyers, buyer_marks, buyer_notes, chases, collisions, claim_log, '
                   'phone_reveals TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, platform, nickname, tz, language, state, starred, cadence_id), '
                   'UPDATE (tz, language, state, starred, cadence_id) ON buyers TO %I', agent);
    EXECUTE format('GRANT INSERT (id, buyer, mark, present, shop), UPDATE (present) ON buyer_marks TO %I', agent);
    EXECUTE format('GRANT INSERT ON buyer_notes, chases TO %I', agent);
    EXECUTE format('GRANT SELECT (buyer, shop), INSERT (buyer, shop, phone), UPDATE (phone) '
                   'ON buyer_phones TO %I', agent);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_supervised_shops(text), kefu_agents(), '
                   'kefu_lease_end(timestamptz), kefu_upsert_buyer(uuid, uuid, text, text), '
                   'kefu_claim(uuid, timestamptz), kefu_take_over(uuid, timestamptz, text), '
                   'kefu_reassign(uuid, text, timestamptz), kefu_release(uuid), kefu_renew(timestamptz), '
                   'kefu_release_agent(text), kefu_disable_agent(text), kefu_hand_over(text, timestamptz), '
                   'kefu_set_phone(uuid, text), kefu_reveal_phone(uuid) TO %I', agent);
    -- step 5: read only; every change goes through the functions
    EXECUTE format('GRANT SELECT ON promotions, reminders TO %I', agent);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_put_reminder(uuid, uuid, text, uuid, text, integer, timestamptz, '
                   'timestamptz, text, text), kefu_add_promotion(uuid, uuid, text, timestamptz, text, uuid[], uuid[], '
                   'timestamptz[], timestamptz[]), kefu_delete_promotion(uuid), kefu_pick_up_pool(timestamptz) TO %I',
                   agent);
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
