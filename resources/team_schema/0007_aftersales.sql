-- kefu team schema step 7: after-sales cases, events, limits
-- After-sales cases of shared buyers (assistant/core/aftersales.py). Every table carries the step-3
-- feed column (xid, stamped by zz_*_xid, indexed with the row's id) and wakes the pullers.
--
-- - aftersales_categories: the built-in ones (shop NULL, the fixed uuids every panel has) and a
--   shop's own, which reach the server with the first case that uses them.
-- - aftersales_cases: one problem of one shared buyer, in the buyer's shop. A case follows its buyer:
--   only the buyer's holder (anyone when nobody holds it or the lease ran out) or a supervisor of the
--   shop may change it (the row policy, as for buyers), so a 交班 that moves the buyer moves its cases.
--   The status moves only along the client's TRANSITIONS (a trigger: KF400 otherwise), and a change
--   is compared with the status it started from (kefu_put_case): two agents moving the same case at
--   once cannot both win. The later one is refused (KF409) when it would move the status from one the
--   server no longer has, and comes back to its panel as a conflict with both sides; a change that
--   leaves the status alone (a note, a step) is applied whatever the status is now. Last writer wins
--   on a status would silently undo a colleague's escalation or a supervisor's decision.
--   manager_decision and decided_by are column privileges of the supervisor group only.
-- - aftersales_events: the case's history, append-only (agents hold SELECT and INSERT). `at` is the
--   server's time, author the login. A 'decision' event, or any event with by_role 'supervisor' (an
--   offer the supervisor approved), needs a supervisor of the shop (row policy: 42501). An 'offer' or
--   'resolved' event by an agent beyond the agent's limit as the server holds it is refused (42501)
--   unless the supervisor approved that offer on this case: an offer above a limit is never recorded
--   as made by the agent, whatever the client. The case's own outcome (compensated ¥x, refunded ...)
--   is held to the same rule, so a plain UPDATE cannot record it either.
-- - aftersales_limits: 挽单权限 per shop, severity, agent ('' = every agent of the shop) and product
--   ('' = any). Written by supervisors of the shop only (agents hold SELECT alone); agents read the
--   shop's defaults and their own rows. Deleting is a tombstone (deleted = true) so it reaches the
--   panels. With no row set on the server the client's shipped defaults apply, on the client only.
--
-- Errors: P0002 no such buyer or case (or not in your shops), KF409 a stale status change, KF400 an
-- impossible move or a bad argument, KF423 the buyer is held by someone else, 42501 not allowed.
CREATE TABLE aftersales_categories (
    id uuid PRIMARY KEY,
    shop uuid REFERENCES shops,
    code text UNIQUE,
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((code IS NULL) = (shop IS NOT NULL))
);
CREATE INDEX aftersales_categories_feed ON aftersales_categories (xid, id);
INSERT INTO aftersales_categories (id, shop, code, name) VALUES
    ('fe6690f4-1914-4ce5-88b4-78d3d2421717', NULL, 'quality', '质量/破损'),
    ('f680f412-f1ce-42ae-b47e-95bdace7c118', NULL, 'wrong_item', '发错货'),
    ('9b4ae3ec-afd2-4873-bb22-3f4f3e592799', NULL, 'size', '尺码不合适'),
    ('d6da2616-e2bc-48f8-acdc-4cfc4ec3b351', NULL, 'logistics', '物流问题'),
    ('ce95dc19-a55a-4179-98bb-5702cbac856d', NULL, 'mismatch', '与描述不符'),
    ('e3e13a78-3bf6-4371-a10e-78a75e901b57', NULL, 'changed_mind', '不想要了'),
    ('007227f1-a47e-4a49-a568-237f3f0f9d5e', NULL, 'other', '其他');

CREATE TABLE aftersales_cases (
    id uuid PRIMARY KEY,
    shop uuid NOT NULL,
    buyer uuid NOT NULL,
    order_no text NOT NULL DEFAULT '',
    product text NOT NULL DEFAULT '',
    problem text NOT NULL CHECK (length(btrim(problem)) > 0),
    category uuid NOT NULL REFERENCES aftersales_categories,
    severity text NOT NULL CHECK (severity IN ('light', 'medium', 'severe')),
    wanted text NOT NULL CHECK (wanted IN ('refund', 'return', 'exchange', 'compensation', 'explanation')),
    mood text NOT NULL DEFAULT 'calm' CHECK (mood IN ('calm', 'upset', 'angry')),
    feelings text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'calming', 'proposed', 'warehouse', 'manager', 'resolved', 'closed')),
    step integer NOT NULL DEFAULT 1 CHECK (step BETWEEN 1 AND 4),
    outcome text CHECK (outcome IS NULL OR outcome IN
        ('compensated', 'exchanged', 'returned', 'refunded', 'withdrawn', 'explained')),
    outcome_amount integer CHECK (outcome_amount IS NULL OR outcome_amount >= 0),
    warehouse_findings text NOT NULL DEFAULT '',
    manager_decision text NOT NULL DEFAULT '',
    decided_by text,
    opened_by text NOT NULL DEFAULT current_user,
    opened_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    closed_at timestamptz,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop),
    UNIQUE (id, shop)
);
CREATE INDEX aftersales_cases_feed ON aftersales_cases (xid, id);
CREATE INDEX aftersales_cases_buyer ON aftersales_cases (buyer);

CREATE TABLE aftersales_events (
    id uuid PRIMARY KEY,
    "case" uuid NOT NULL,
    shop uuid NOT NULL,
    author text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now(),
    client_at timestamptz,
    kind text NOT NULL CHECK (kind IN ('opened', 'step', 'updated', 'offer', 'offer_blocked', 'escalated',
        'decision', 'warehouse_check', 'warehouse_findings', 'callback', 'followed_up', 'resolved', 'closed',
        'reopened', 'note')),
    by_name text NOT NULL DEFAULT '',
    by_role text NOT NULL DEFAULT 'agent' CHECK (by_role IN ('agent', 'supervisor', 'warehouse')),
    status_from text,
    status_to text,
    step integer,
    offer text CHECK (offer IS NULL OR offer IN ('compensate', 'exchange', 'return', 'refund')),
    amount integer CHECK (amount IS NULL OR amount >= 0),
    detail text NOT NULL DEFAULT '',
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY ("case", shop) REFERENCES aftersales_cases (id, shop)
);
CREATE INDEX aftersales_events_feed ON aftersales_events (xid, id);
CREATE INDEX aftersales_events_case ON aftersales_events ("case", at);

CREATE TABLE aftersales_limits (
    id uuid PRIMARY KEY,
    shop uuid NOT NULL REFERENCES shops,
    agent text NOT NULL DEFAULT '',
    severity text NOT NULL CHECK (severity IN ('light', 'medium', 'severe')),
    product text NOT NULL DEFAULT '',
    max_compensation integer NOT NULL DEFAULT 0 CHECK (max_compensation >= 0),
    may_exchange boolean NOT NULL DEFAULT false,
    may_return boolean NOT NULL DEFAULT false,
    may_refund boolean NOT NULL DEFAULT false,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (shop, agent, severity, product)
);
CREATE INDEX aftersales_limits_feed ON aftersales_limits (xid, id);

-- ---------------------------------------------------------------- triggers
CREATE TRIGGER zz_aftersales_categories_xid BEFORE INSERT OR UPDATE ON aftersales_categories
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_aftersales_cases_xid BEFORE INSERT OR UPDATE ON aftersales_cases
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_aftersales_events_xid BEFORE INSERT OR UPDATE ON aftersales_events
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_aftersales_limits_xid BEFORE INSERT OR UPDATE ON aftersales_limits
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER aftersales_categories_wake AFTER INSERT OR UPDATE ON aftersales_categories
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER aftersales_cases_wake AFTER INSERT OR UPDATE ON aftersales_cases
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER aftersales_events_wake AFTER INSERT OR UPDATE ON aftersales_events
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER aftersales_limits_wake AFTER INSERT OR UPDATE ON aftersales_limits
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

-- The client's TRANSITIONS (assistant/core/aftersales.py), here so that no client can skip them.
CREATE FUNCTION kefu_case_move_ok(p_from text, p_to text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_from = p_to OR (p_from, p_to) IN (
        ('new', 'calming'), ('new', 'proposed'), ('new', 'warehouse'), ('new', 'manager'), ('new', 'closed'),
        ('calming', 'proposed'), ('calming', 'warehouse'), ('calming', 'manager'), ('calming', 'resolved'),
        ('calming', 'closed'),
        ('proposed', 'calming'), ('proposed', 'warehouse'), ('proposed', 'manager'), ('proposed', 'resolved'),
        ('proposed', 'closed'),
        ('warehouse', 'calming'), ('warehouse', 'proposed'), ('warehouse', 'manager'), ('warehouse', 'resolved'),
        ('warehouse', 'closed'),
        ('manager', 'calming'), ('manager', 'proposed'), ('manager', 'resolved'), ('manager', 'closed'),
        ('resolved', 'closed'), ('resolved', 'calming'), ('closed', 'calming'))
$$;

-- Server time and the writer; closed_at exactly while resolved or closed (time to close is the server's).
CREATE FUNCTION kefu_case_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.opened_at := now();
        NEW.opened_by := session_user;
    ELSE
        IF NEW.id <> OLD.id OR NEW.shop <> OLD.shop OR NEW.buyer <> OLD.buyer THEN
            RAISE EXCEPTION '售后单的编号、店铺和买家不可更改 / a case keeps its id, shop and buyer'
                USING ERRCODE = 'KF400';
        END IF;
        IF NOT kefu_case_move_ok(OLD.status, NEW.status) THEN
            RAISE EXCEPTION '售后单不能从 % 变为 % / a case cannot go from % to %',
                OLD.status, NEW.status, OLD.status, NEW.status USING ERRCODE = 'KF400';
        END IF;
        NEW.opened_at := OLD.opened_at;
        NEW.opened_by := OLD.opened_by;
    END IF;
    NEW.closed_at := CASE WHEN NEW.status NOT IN ('resolved', 'closed') THEN NULL
                          WHEN TG_OP = 'UPDATE' AND OLD.status IN ('resolved', 'closed') THEN OLD.closed_at
                          ELSE now() END;
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER aftersales_cases_stamp BEFORE INSERT OR UPDATE ON aftersales_cases
    FOR EACH ROW EXECUTE FUNCTION kefu_case_stamp();

-- The limit the server holds for an agent (the most specific row: agent + product, agent, shop +
-- product, shop), or no row. Products compare trimmed and case-folded.
CREATE FUNCTION kefu_case_limit(p_shop uuid, p_agent text, p_severity text, p_product text)
RETURNS aftersales_limits
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT l.* FROM aftersales_limits l
    WHERE l.shop = p_shop AND l.severity = p_severity AND NOT l.deleted AND l.agent IN ('', p_agent)
      AND (l.product = '' OR lower(btrim(l.product)) = lower(btrim(coalesce(p_product, ''))))
    ORDER BY (l.agent <> '') DESC, (l.product <> '') DESC LIMIT 1
$$;
REVOKE ALL ON FUNCTION kefu_case_limit(uuid, text, text, text) FROM PUBLIC;

-- Server time and the author; an agent's offer (or outcome) above its limit is refused unless the
-- shop's supervisor approved that offer on this case. SECURITY DEFINER: it reads limits and events
-- the caller may not (another agent's limit row) and nothing else.
CREATE FUNCTION kefu_case_event_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c aftersales_cases;
    l aftersales_limits;
    v_ok boolean;
BEGIN
    NEW.at := clock_timestamp();  -- the server's, and distinct for the lines of one change: their order
    NEW.author := session_user;
    IF NEW.by_role = 'agent' AND NEW.kind IN ('offer', 'resolved') AND NEW.offer IS NOT NULL THEN
        SELECT * INTO c FROM aftersales_cases x WHERE x.id = NEW."case";
        l := kefu_case_limit(c.shop, session_user, c.severity, c.product);
        v_ok := l.id IS NULL OR CASE NEW.offer
                WHEN 'compensate' THEN coalesce(NEW.amount, 0) <= l.max_compensation
                WHEN 'exchange' THEN l.may_exchange WHEN 'return' THEN l.may_return ELSE l.may_refund END;
        IF NOT v_ok AND NOT EXISTS (SELECT 1 FROM aftersales_events e WHERE e."case" = NEW."case" AND e.kind = 'offer'
                           AND e.by_role = 'supervisor' AND e.offer = NEW.offer
                           AND (NEW.offer <> 'compensate' OR coalesce(NEW.amount, 0) <= coalesce(e.amount, 0))) THEN
            RAISE EXCEPTION '方案超出挽单权限，需要主管批准 / the offer (%) is above your limit: a supervisor must approve it',
                NEW.offer USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION kefu_case_event_stamp() FROM PUBLIC;
CREATE TRIGGER aftersales_events_stamp BEFORE INSERT ON aftersales_events
    FOR EACH ROW EXECUTE FUNCTION kefu_case_event_stamp();

-- The same rule on the case itself, for any client (a plain UPDATE of outcome_amount included): an
-- outcome an agent records must be within its limit or approved by a supervisor on this case.
CREATE FUNCTION kefu_case_outcome_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_offer text := CASE NEW.outcome WHEN 'compensated' THEN 'compensate' WHEN 'exchanged' THEN 'exchange'
                                     WHEN 'returned' THEN 'return' WHEN 'refunded' THEN 'refund' END;
    l aftersales_limits;
    v_ok boolean;
BEGIN
    IF v_offer IS NULL OR (TG_OP = 'UPDATE' AND NEW.outcome IS NOT DISTINCT FROM OLD.outcome
                           AND NEW.outcome_amount IS NOT DISTINCT FROM OLD.outcome_amount)
       OR NEW.shop = ANY (kefu_supervised_shops(session_user)) OR kefu_is_admin() THEN
        RETURN NEW;
    END IF;
    l := kefu_case_limit(NEW.shop, session_user, NEW.severity, NEW.product);
    v_ok := l.id IS NULL OR CASE v_offer
            WHEN 'compensate' THEN coalesce(NEW.outcome_amount, 0) <= l.max_compensation
            WHEN 'exchange' THEN l.may_exchange WHEN 'return' THEN l.may_return ELSE l.may_refund END;
    IF NOT v_ok AND NOT EXISTS (SELECT 1 FROM aftersales_events e WHERE e."case" = NEW.id AND e.kind = 'offer'
                                AND e.by_role = 'supervisor' AND e.offer = v_offer
                                AND (v_offer <> 'compensate' OR coalesce(NEW.outcome_amount, 0) <= coalesce(e.amount, 0))) THEN
        RAISE EXCEPTION '结果超出挽单权限，需要主管批准 / the outcome (%) is above your limit: a supervisor must approve it',
            NEW.outcome USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION kefu_case_outcome_check() FROM PUBLIC;
CREATE TRIGGER aftersales_cases_outcome BEFORE INSERT OR UPDATE ON aftersales_cases
    FOR EACH ROW EXECUTE FUNCTION kefu_case_outcome_check();

CREATE TRIGGER aftersales_limits_stamp BEFORE INSERT OR UPDATE ON aftersales_limits
    FOR EACH ROW EXECUTE FUNCTION kefu_reminder_stamp();

-- ---------------------------------------------------------------- the interface
-- One change of a case, as the panel made it in one local transaction: the case's fields after the
-- change (p_case, JSON), the status it started from (p_from; NULL: the case is new here) and the
-- history lines it wrote (p_events, a JSON array; each inserted once by its id). SECURITY INVOKER:
-- the caller's privileges and row policies apply (a decision needs the supervisor's columns, an
-- event by_role 'supervisor' the supervisor's row policy). Returns 'ok'.
CREATE FUNCTION kefu_put_case(p_id uuid, p_buyer uuid, p_from text, p_case jsonb, p_events jsonb) RETURNS text
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public AS $$
DECLARE
    v_shop uuid := (SELECT b.shop FROM buyers b WHERE b.id = p_buyer);
    v_cat uuid := (p_case->'category'->>'id')::uuid;
    v_to text := p_case->>'status';
    c aftersales_cases;
BEGIN
    IF v_shop IS NULL THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    IF v_cat IS NULL OR v_to IS NULL THEN
        RAISE EXCEPTION '售后单缺少分类或状态 / a case needs a category and a status' USING ERRCODE = 'KF400';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM aftersales_categories k WHERE k.id = v_cat) THEN
        INSERT INTO aftersales_categories (id, shop, name) VALUES (v_cat, v_shop, p_case->'category'->>'name')
            ON CONFLICT (id) DO NOTHING;
    END IF;
    SELECT * INTO c FROM aftersales_cases x WHERE x.id = p_id;
    IF NOT FOUND THEN
        INSERT INTO aftersales_cases (id, shop, buyer, order_no, product, problem, category, severity, wanted, mood,
                                      feelings, status, step, outcome, outcome_amount, warehouse_findings)
        VALUES (p_id, v_shop, p_buyer, coalesce(p_case->>'order_no', ''), coalesce(p_case->>'product', ''),
                p_case->>'problem', v_cat, p_case->>'severity', p_case->>'wanted', p_case->>'mood',
                coalesce(p_case->>'feelings', ''), v_to, (p_case->>'step')::integer, p_case->>'outcome',
                (p_case->>'outcome_amount')::integer, coalesce(p_case->>'warehouse_findings', ''));
        SELECT * INTO c FROM aftersales_cases x WHERE x.id = p_id;
    ELSE
        -- FOR UPDATE also applies the update policy: a case whose buyer someone else holds is not there
        SELECT * INTO c FROM aftersales_cases x WHERE x.id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION '这位买家由别人跟进中，售后单只能由跟进人或主管修改 / the buyer is held by someone else: '
                'only the holder or a supervisor changes the case' USING ERRCODE = 'KF423';
        END IF;
        p_from := coalesce(p_from, v_to);  -- a whole case sent again (first share): its fields, not a move
        IF v_to <> p_from AND c.status <> p_from THEN
            RAISE EXCEPTION '售后单已被他人改为 %，请刷新后重试 / stale case: you moved it from %, the server has %',
                c.status, p_from, c.status USING ERRCODE = 'KF409', HINT = 'pull the case and act again';
        END IF;
        UPDATE aftersales_cases x SET order_no = coalesce(p_case->>'order_no', ''),
            product = coalesce(p_case->>'product', ''), problem = p_case->>'problem', category = v_cat,
            severity = p_case->>'severity', wanted = p_case->>'wanted', mood = p_case->>'mood',
            feelings = coalesce(p_case->>'feelings', ''),
            status = CASE WHEN v_to = p_from THEN x.status ELSE v_to END,
            step = CASE WHEN v_to = p_from THEN greatest(x.step, (p_case->>'step')::integer)
                        ELSE (p_case->>'step')::integer END,
            outcome = CASE WHEN v_to = p_from THEN x.outcome ELSE p_case->>'outcome' END,
            outcome_amount = CASE WHEN v_to = p_from THEN x.outcome_amount
                                  ELSE (p_case->>'outcome_amount')::integer END,
            warehouse_findings = coalesce(p_case->>'warehouse_findings', '')
        WHERE x.id = p_id RETURNING * INTO c;
    END IF;
    -- a decision is the supervisor's: only then are its columns named (an agent's panel sends back
    -- what it pulled, unchanged, and never touches them)
    IF coalesce(p_case->>'manager_decision', '') <> c.manager_decision
       OR (p_case->>'decided_by') IS DISTINCT FROM c.decided_by THEN
        UPDATE aftersales_cases x SET manager_decision = coalesce(p_case->>'manager_decision', ''),
            decided_by = p_case->>'decided_by' WHERE x.id = p_id;
    END IF;
    INSERT INTO aftersales_events (id, "case", shop, client_at, kind, by_name, by_role, status_from, status_to, step,
                                   offer, amount, detail)
    SELECT (e->>'id')::uuid, p_id, v_shop, (e->>'client_at')::timestamptz, e->>'kind', coalesce(e->>'by_name', ''),
           coalesce(e->>'by_role', 'agent'), e->>'status_from', e->>'status_to', (e->>'step')::integer,
           e->>'offer', (e->>'amount')::integer, coalesce(e->>'detail', '')
    FROM jsonb_array_elements(coalesce(p_events, '[]'::jsonb)) AS e
    ON CONFLICT (id) DO NOTHING;
    RETURN 'ok';
END $$;
REVOKE ALL ON FUNCTION kefu_put_case(uuid, uuid, text, jsonb, jsonb) FROM PUBLIC;

-- ---------------------------------------------------------------- row-level security
ALTER TABLE aftersales_categories ENABLE ROW LEVEL SECURITY;
CREATE POLICY aftersales_categories_read ON aftersales_categories FOR SELECT
    USING (shop IS NULL OR shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY aftersales_categories_insert ON aftersales_categories FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE aftersales_cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY aftersales_cases_read ON aftersales_cases FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY aftersales_cases_insert ON aftersales_cases FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
-- the case follows its buyer: the holder's (or nobody's, or a lapsed lease's) or a supervisor's
CREATE POLICY aftersales_cases_update ON aftersales_cases FOR UPDATE
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])
                OR EXISTS (SELECT 1 FROM buyers b WHERE b.id = buyer
                           AND (b.holder IS NULL OR b.holder = current_user::text OR b.held_until <= now()))))
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE aftersales_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY aftersales_events_read ON aftersales_events FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY aftersales_events_insert ON aftersales_events FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
                AND (kind <> 'decision' AND by_role <> 'supervisor'
                     OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])));

ALTER TABLE aftersales_limits ENABLE ROW LEVEL SECURITY;
CREATE POLICY aftersales_limits_read ON aftersales_limits FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[])
           AND (agent = '' OR agent = current_user::text
                OR shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[])));
CREATE POLICY aftersales_limits_write ON aftersales_limits FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));
CREATE POLICY aftersales_limits_update ON aftersales_limits FOR UPDATE
    USING (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));

-- Every earlier grant, then step 7's. The case columns agents write exclude the decision and the
-- stamps; limits are the supervisor group's to write.
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
    -- step 6
    EXECUTE format('GRANT INSERT (mood), UPDATE (mood) ON buyers TO %I', agent);
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
    -- step 7
    EXECUTE format('GRANT SELECT ON aftersales_categories, aftersales_cases, aftersales_events, aftersales_limits '
                   'TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, name) ON aftersales_categories TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, buyer, order_no, product, problem, category, severity, wanted, mood, '
                   'feelings, status, step, outcome, outcome_amount, warehouse_findings), '
                   'UPDATE (order_no, product, problem, category, severity, wanted, mood, feelings, status, step, '
                   'outcome, outcome_amount, warehouse_findings) ON aftersales_cases TO %I', agent);
    EXECUTE format('GRANT UPDATE (manager_decision, decided_by) ON aftersales_cases TO %I', supervisor);
    EXECUTE format('GRANT INSERT (id, "case", shop, client_at, kind, by_name, by_role, status_from, status_to, step, '
                   'offer, amount, detail) ON aftersales_events TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, agent, severity, product, max_compensation, may_exchange, may_return, '
                   'may_refund, deleted), UPDATE (max_compensation, may_exchange, may_return, may_refund, deleted) '
                   'ON aftersales_limits TO %I', supervisor);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_case_move_ok(text, text), '
                   'kefu_put_case(uuid, uuid, text, jsonb, jsonb) TO %I', agent);
END $$;
SELECT kefu_team_grants(id) FROM teams;
