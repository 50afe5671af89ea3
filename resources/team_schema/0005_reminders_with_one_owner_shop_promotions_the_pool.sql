-- kefu team schema step 5: reminders with one owner, shop promotions, the pool
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
    -- nothing waiting (the usual sign-in): no UPDATE at all, whose statement trigger would wake every panel
    IF NOT EXISTS (SELECT 1 FROM reminders r WHERE r.state = 'pending' AND r.owner IS NULL
                   AND r.shop = ANY (kefu_shops_of(me))) THEN
        RETURN 0;
    END IF;
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
