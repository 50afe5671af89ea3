-- kefu team schema step 9: orders
-- Unpaid orders (催付, issue 15) of shared buyers, synced like the buyer's calls and product links: each row
-- by its uuid, the step-3 feed column, one wake-up per statement.
--
-- - orders: what everyone serving the shop may read: the MASKED number (never the full one: a check
--   keeps a full number out of it), amount, times, status. Written only through kefu_put_order, which
--   follows the buyer's holder (kefu_buyer_for_write: the holder, anyone while nobody holds it, a
--   supervisor of the shop; anyone else KF423 and nothing written). An order once paid or closed stays
--   so (a late 'unpaid' from an offline panel does not reopen it); when it becomes paid or closed its
--   pending 催付 reminders end on the server too, whoever owns them.
-- - order_numbers: the full number, one row an order, granted to nobody: read only through
--   kefu_reveal_order_number (SECURITY DEFINER), which writes an order_reveals row (who, when, which
--   order; never the number). One full number per shop and platform (23505 for a second order).
-- - reminders: kind 'order' and the order a 催付 reminder belongs to; kefu_put_reminder takes it.
--
-- Errors: P0002 no such buyer / order (or not in your shops), KF423 the buyer is held by someone else,
-- KF400 an order moved to another buyer, 23505 the full number is another order's, 42501 not allowed.
CREATE TABLE orders (
    id uuid PRIMARY KEY,
    buyer uuid NOT NULL,
    shop uuid NOT NULL,
    platform text NOT NULL,
    order_masked text NOT NULL CHECK (length(order_masked) BETWEEN 1 AND 40
                                      AND (position('*' IN order_masked) > 0 OR length(order_masked) <= 4)),
    amount bigint CHECK (amount IS NULL OR amount >= 0),
    ordered_at timestamptz NOT NULL,
    deadline_at timestamptz NOT NULL,
    deadline_given boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid', 'closed')),
    status_at timestamptz,
    item text NOT NULL DEFAULT '' CHECK (length(item) <= 100),
    source text NOT NULL DEFAULT 'typed',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (id, shop),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop)
);
CREATE INDEX orders_feed ON orders (xid, id);
CREATE INDEX orders_buyer ON orders (buyer);

CREATE TABLE order_numbers (
    "order" uuid PRIMARY KEY,
    shop uuid NOT NULL,
    platform text NOT NULL,
    number text NOT NULL CHECK (length(btrim(number)) BETWEEN 1 AND 40),
    FOREIGN KEY ("order", shop) REFERENCES orders (id, shop),
    UNIQUE (shop, platform, number)
);

CREATE TABLE order_reveals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "order" uuid NOT NULL REFERENCES orders,
    shop uuid NOT NULL,
    by_role text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_reveals_order ON order_reveals ("order", id);

ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_kind_check CHECK (kind IN ('chase', 'wave', 'order'));
ALTER TABLE reminders ADD COLUMN "order" uuid REFERENCES orders;
CREATE INDEX reminders_order ON reminders ("order") WHERE "order" IS NOT NULL AND state = 'pending';

CREATE TRIGGER zz_orders_xid BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER orders_wake AFTER INSERT OR UPDATE ON orders FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

-- ---------------------------------------------------------------- the interface
-- One order created or changed, as one call (sent again, the same row results). p_number: the full
-- number when the writer's panel has it (NULL: only the masked one is known, e.g. from a handover); a
-- full number fills in an order that had none. Server time stamps status_at for a new paid/closed.
CREATE FUNCTION kefu_put_order(p_id uuid, p_buyer uuid, p_order jsonb, p_number text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    b buyers := kefu_buyer_for_write(p_buyer);
    o orders;
    v_status text := coalesce(p_order->>'status', 'unpaid');
BEGIN
    SELECT * INTO o FROM orders x WHERE x.id = p_id FOR UPDATE;
    IF o.id IS NOT NULL AND o.buyer <> p_buyer THEN
        RAISE EXCEPTION '订单不可改到别的买家 / an order keeps its buyer' USING ERRCODE = 'KF400';
    END IF;
    -- checked here so that no error (and no server log line: a constraint's DETAIL quotes the row) ever
    -- carries a full number
    IF p_number IS NOT NULL AND length(btrim(p_number)) > 40 THEN
        RAISE EXCEPTION '订单号太长 / the order number is too long' USING ERRCODE = 'KF400';
    END IF;
    IF p_number IS NOT NULL AND EXISTS (SELECT 1 FROM order_numbers n WHERE n.shop = b.shop
            AND n.platform = p_order->>'platform' AND n.number = btrim(p_number) AND n."order" <> p_id) THEN
        RAISE EXCEPTION '这个订单号已经属于另一个订单 / the order number is another order''s' USING ERRCODE = 'unique_violation';
    END IF;
    IF o.id IS NOT NULL AND o.status <> 'unpaid' THEN
        v_status := o.status;  -- paid or closed stays so
    END IF;
    INSERT INTO orders (id, buyer, shop, platform, order_masked, amount, ordered_at, deadline_at, deadline_given,
                        status, status_at, item, source, updated_by)
    VALUES (p_id, p_buyer, b.shop, p_order->>'platform', p_order->>'masked', (p_order->>'amount')::bigint,
            (p_order->>'ordered_at')::timestamptz, (p_order->>'deadline_at')::timestamptz,
            coalesce((p_order->>'deadline_given')::boolean, false), v_status,
            CASE WHEN v_status <> 'unpaid' THEN now() END, coalesce(p_order->>'item', ''),
            coalesce(p_order->>'source', 'typed'), session_user)
    ON CONFLICT (id) DO UPDATE SET order_masked = EXCLUDED.order_masked, amount = EXCLUDED.amount,
        ordered_at = EXCLUDED.ordered_at, deadline_at = EXCLUDED.deadline_at,
        deadline_given = EXCLUDED.deadline_given, status = EXCLUDED.status,
        status_at = CASE WHEN orders.status = 'unpaid' AND EXCLUDED.status <> 'unpaid' THEN now()
                         ELSE orders.status_at END,
        item = EXCLUDED.item, updated_at = now(), updated_by = session_user;
    IF p_number IS NOT NULL AND btrim(p_number) <> '' THEN
        INSERT INTO order_numbers ("order", shop, platform, number)
        VALUES (p_id, b.shop, p_order->>'platform', btrim(p_number)) ON CONFLICT ("order") DO NOTHING;
    END IF;
    IF v_status <> 'unpaid' THEN  -- its 催付 ends for whoever owns the reminders
        UPDATE reminders x SET state = 'cancelled', outcome = v_status
        WHERE x."order" = p_id AND x.state = 'pending';
    END IF;
    RETURN 'ok';
END $$;

-- The full number of an order of the caller's shops, audited (who, when, which order: never the
-- number). NULL when the server only has the masked one (no audit row then).
CREATE FUNCTION kefu_reveal_order_number(p_order uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_shop uuid := (SELECT o.shop FROM orders o WHERE o.id = p_order);
    v_number text;
BEGIN
    IF v_shop IS NULL OR NOT v_shop = ANY (kefu_shops_of(session_user)) THEN
        RAISE EXCEPTION '没有这个订单 / no such order: %', p_order USING ERRCODE = 'no_data_found';
    END IF;
    SELECT n.number INTO v_number FROM order_numbers n WHERE n."order" = p_order;
    IF v_number IS NOT NULL THEN
        INSERT INTO order_reveals ("order", shop, by_role) VALUES (p_order, v_shop, session_user);
    END IF;
    RETURN v_number;
END $$;

-- kefu_put_reminder with the order a 催付 reminder belongs to (an order of the same buyer, else none).
DROP FUNCTION kefu_put_reminder(uuid, uuid, text, uuid, text, integer, timestamptz, timestamptz, text, text);
CREATE FUNCTION kefu_put_reminder(p_id uuid, p_buyer uuid, p_kind text, p_promotion uuid, p_cadence text,
                                  p_step integer, p_due timestamptz, p_planned timestamptz, p_state text,
                                  p_outcome text, p_order uuid DEFAULT NULL) RETURNS text
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
    IF p_order IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = p_order AND o.buyer = p_buyer) THEN
        p_order := NULL;
    END IF;
    -- a reminder of an order already paid or closed is not pending any more
    IF p_state = 'pending' AND p_order IS NOT NULL
       AND EXISTS (SELECT 1 FROM orders o WHERE o.id = p_order AND o.status <> 'unpaid') THEN
        p_state := 'cancelled';
        p_outcome := (SELECT o.status FROM orders o WHERE o.id = p_order);
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
            due_at = p_due, planned_at = p_planned, state = p_state, outcome = p_outcome,
            "order" = coalesce(p_order, x."order") WHERE x.id = p_id;
        RETURN 'ok';
    END IF;
    IF EXISTS (SELECT 1 FROM buyers b WHERE b.id = p_buyer AND b.holder <> me AND b.held_until > now()) THEN
        RETURN 'held';
    END IF;
    INSERT INTO reminders (id, buyer, shop, owner, kind, promotion, cadence_id, step, due_at, planned_at, state, outcome,
                           "order")
    VALUES (p_id, p_buyer, v_shop, me, p_kind, p_promotion, p_cadence, p_step, p_due, p_planned, p_state, p_outcome,
            p_order);
    RETURN 'ok';
END $$;

REVOKE ALL ON FUNCTION kefu_put_order(uuid, uuid, jsonb, text), kefu_reveal_order_number(uuid),
    kefu_put_reminder(uuid, uuid, text, uuid, text, integer, timestamptz, timestamptz, text, text, uuid) FROM PUBLIC;

-- ---------------------------------------------------------------- row-level security
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_read ON orders FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
-- no policy and no grant: nobody but the definer functions reads a full number
ALTER TABLE order_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_reveals ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_reveals_read ON order_reveals FOR SELECT
    USING (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));

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
                   'timestamptz, text, text, uuid), kefu_add_promotion(uuid, uuid, text, timestamptz, text, uuid[], uuid[], '
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
    -- step 8
    EXECUTE format('GRANT SELECT ON products, buyer_products, promotion_calls, shop_synonyms TO %I', agent);
    EXECUTE format('GRANT INSERT (id, shop, name, short_name, item_ref, price_band, selling_points, material, size, '
                   'care, gift, promotion), UPDATE (name, short_name, item_ref, price_band, selling_points, material, '
                   'size, care, gift, promotion, deleted, version) ON products TO %I', supervisor);
    EXECUTE format('GRANT INSERT (id, shop, words), UPDATE (deleted) ON shop_synonyms TO %I', supervisor);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_put_product(uuid, uuid, integer, jsonb, boolean), '
                   'kefu_link_product(uuid, uuid, boolean, boolean), '
                   'kefu_record_call(uuid, uuid, uuid, text, timestamptz, timestamptz), '
                   'kefu_set_do_not_call(uuid, boolean) TO %I', agent);
    -- step 9: orders are read masked; the full numbers only through kefu_reveal_order_number
    EXECUTE format('GRANT SELECT ON orders TO %I', agent);
    EXECUTE format('GRANT SELECT ON order_reveals TO %I', supervisor);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kefu_put_order(uuid, uuid, jsonb, text), '
                   'kefu_reveal_order_number(uuid) TO %I', agent);
END $$;
SELECT kefu_team_grants(id) FROM teams;
