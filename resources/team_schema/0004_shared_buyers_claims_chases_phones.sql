-- kefu team schema step 4: shared buyers, claims, chases, phones
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
