-- kefu team schema step 8: products, promotion calls, 勿扰, the shop's synonyms
-- What issue 15 and 16 added to a panel, shared like the rest: each table carries the step-3 feed
-- column (xid, stamped by zz_*_xid, indexed with the row's id) and wakes the pullers once per statement.
--
-- - products: the shop's product list (商品资料), modelled on the shop library (step 2): every agent of
--   the shop reads it, only a supervisor of the shop writes it (privileges and the row policy; an
--   agent's own products stay on its PC). A change carries the version it was made from and a stale
--   one is refused (KF409: the panel keeps both sides as a conflict); a delete is a tombstone so it
--   reaches offline panels. One live product per shop and name: a second one of the same name is
--   refused (KF409), and the panel adopts the shop's instead of keeping a twin.
-- - buyer_products: which products a buyer asked about (the one chosen, the latest linked). A set like
--   the buyer's marks (an unlink is present = false), written only through kefu_link_product, which
--   follows the buyer's holder: the holder, anyone while nobody holds it (or the lease ran out), or a
--   supervisor of the shop; anyone else gets KF423 and nothing is written.
-- - chases.product / selling_point: the selling point a chase sent (the sentence as sent), so that a
--   second agent's panel never proposes it to the same buyer again.
-- - promotion_calls: the phone list worked (接通 / 未接 / 改约 / 不需要), append-only, each call once by its
--   id, through kefu_record_call (the holder rule above). Everyone in the shop reads them.
-- - buyers.do_not_call (勿扰): changed only through kefu_set_do_not_call (the holder rule), read by all.
-- - shop_synonyms: the shop's search synonym groups (one row a group, words fixed once written).
--   Supervisors of the shop add them and remove them (a tombstone); everyone reads them. Two
--   supervisors adding groups at once both keep theirs: there is nothing to conflict.
--
-- Errors: P0002 no such buyer / product / promotion (or not in your shops), KF409 a stale product edit
-- or a product name the shop already has, KF423 the buyer is held by someone else, 42501 not allowed.
CREATE TABLE products (
    id uuid PRIMARY KEY,
    shop uuid NOT NULL REFERENCES shops,
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    short_name text NOT NULL DEFAULT '',
    item_ref text NOT NULL DEFAULT '',
    price_band text NOT NULL DEFAULT '',
    selling_points jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(selling_points) = 'array'),
    material text NOT NULL DEFAULT '',
    size text NOT NULL DEFAULT '',
    care text NOT NULL DEFAULT '',
    gift text NOT NULL DEFAULT '',
    promotion text NOT NULL DEFAULT '',
    version integer NOT NULL DEFAULT 1,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (id, shop)
);
CREATE INDEX products_feed ON products (xid, id);
CREATE UNIQUE INDEX products_live_name ON products (shop, name) WHERE NOT deleted;

CREATE TABLE buyer_products (
    buyer uuid NOT NULL,
    product uuid NOT NULL,
    shop uuid NOT NULL,
    chosen boolean NOT NULL DEFAULT false,
    present boolean NOT NULL DEFAULT true,
    linked_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (buyer, product),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop),
    FOREIGN KEY (product, shop) REFERENCES products (id, shop)
);
CREATE INDEX buyer_products_feed ON buyer_products (xid, id);

ALTER TABLE chases ADD COLUMN product uuid,
    ADD COLUMN selling_point text CHECK (selling_point IS NULL OR length(selling_point) <= 200);

CREATE TABLE promotion_calls (
    id uuid PRIMARY KEY,
    promotion uuid NOT NULL,
    buyer uuid NOT NULL,
    shop uuid NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('answered', 'no_answer', 'rescheduled', 'not_needed')),
    at timestamptz NOT NULL DEFAULT now(),
    client_at timestamptz,
    retry_at timestamptz,
    author text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (buyer, shop) REFERENCES buyers (id, shop),
    FOREIGN KEY (promotion, shop) REFERENCES promotions (id, shop)
);
CREATE INDEX promotion_calls_feed ON promotion_calls (xid, id);
CREATE INDEX promotion_calls_buyer ON promotion_calls (promotion, buyer);

ALTER TABLE buyers ADD COLUMN do_not_call boolean NOT NULL DEFAULT false;

CREATE TABLE shop_synonyms (
    id uuid PRIMARY KEY,
    shop uuid NOT NULL REFERENCES shops,
    words jsonb NOT NULL CHECK (jsonb_typeof(words) = 'array' AND jsonb_array_length(words) BETWEEN 2 AND 20),
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX shop_synonyms_feed ON shop_synonyms (xid, id);

-- ---------------------------------------------------------------- triggers
CREATE TRIGGER zz_products_xid BEFORE INSERT OR UPDATE ON products FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_buyer_products_xid BEFORE INSERT OR UPDATE ON buyer_products
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_promotion_calls_xid BEFORE INSERT OR UPDATE ON promotion_calls
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER zz_shop_synonyms_xid BEFORE INSERT OR UPDATE ON shop_synonyms
    FOR EACH ROW EXECUTE FUNCTION kefu_stamp_xid();
CREATE TRIGGER products_wake AFTER INSERT OR UPDATE ON products FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER buyer_products_wake AFTER INSERT OR UPDATE ON buyer_products
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER promotion_calls_wake AFTER INSERT OR UPDATE ON promotion_calls
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();
CREATE TRIGGER shop_synonyms_wake AFTER INSERT OR UPDATE ON shop_synonyms
    FOR EACH STATEMENT EXECUTE FUNCTION kefu_wake();

-- The version check of the shop library (step 2), for products: an update must set version to the
-- version the client read + 1. Server time and the writer.
CREATE FUNCTION kefu_product_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
    ELSE
        IF NEW.id <> OLD.id OR NEW.shop <> OLD.shop THEN
            RAISE EXCEPTION '商品的编号和店铺不可更改 / a product keeps its id and shop' USING ERRCODE = 'KF400';
        END IF;
        IF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
            RAISE EXCEPTION '商品资料已被他人修改，请对比后重试 / stale product: you edited version %, the server has version %',
                NEW.version - 1, OLD.version USING ERRCODE = 'KF409', HINT = 'read the product again and re-apply your edit';
        END IF;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER products_stamp BEFORE INSERT OR UPDATE ON products FOR EACH ROW EXECUTE FUNCTION kefu_product_stamp();

-- A group's words never change (an edit is a removal and a new group): only the tombstone moves.
CREATE FUNCTION kefu_synonyms_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.id <> OLD.id OR NEW.shop <> OLD.shop OR NEW.words <> OLD.words) THEN
        RAISE EXCEPTION '同义词组不可修改，只能删除 / a synonym group is removed, never edited' USING ERRCODE = 'KF400';
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := session_user;
    RETURN NEW;
END $$;
CREATE TRIGGER shop_synonyms_stamp BEFORE INSERT OR UPDATE ON shop_synonyms
    FOR EACH ROW EXECUTE FUNCTION kefu_synonyms_stamp();

-- ---------------------------------------------------------------- the interface
-- A product created, changed or deleted by a supervisor, as one call: p_expected NULL is a create
-- (the product's id is its key: sent again, nothing changes), otherwise the version the change was
-- made from. SECURITY INVOKER: the caller's privileges and row policies apply.
CREATE FUNCTION kefu_put_product(p_id uuid, p_shop uuid, p_expected integer, p_product jsonb, p_deleted boolean)
RETURNS text LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public AS $$
DECLARE
    v_name text := btrim(coalesce(p_product->>'name', ''));
    v_found uuid;
BEGIN
    IF NOT p_shop = ANY (kefu_supervised_shops(current_user::text)) THEN
        RAISE EXCEPTION '只有主管可以修改店铺的商品资料 / only a supervisor of the shop changes its products'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_name = '' THEN
        RAISE EXCEPTION '商品需要名称 / a product needs a name' USING ERRCODE = 'KF400';
    END IF;
    IF p_expected IS NULL AND EXISTS (SELECT 1 FROM products x WHERE x.id = p_id) THEN
        RETURN 'ok';
    END IF;
    IF NOT p_deleted AND EXISTS (SELECT 1 FROM products x WHERE x.shop = p_shop AND x.name = v_name
                                 AND NOT x.deleted AND x.id <> p_id) THEN
        RAISE EXCEPTION '店铺已有同名商品 / the shop already has a product of that name' USING ERRCODE = 'KF409';
    END IF;
    IF p_expected IS NULL THEN
        INSERT INTO products (id, shop, name, short_name, item_ref, price_band, selling_points, material, size, care,
                              gift, promotion)
        VALUES (p_id, p_shop, v_name, coalesce(p_product->>'short_name', ''), coalesce(p_product->>'item_ref', ''),
                coalesce(p_product->>'price_band', ''), coalesce(p_product->'selling_points', '[]'),
                coalesce(p_product->>'material', ''), coalesce(p_product->>'size', ''),
                coalesce(p_product->>'care', ''), coalesce(p_product->>'gift', ''),
                coalesce(p_product->>'promotion', ''));
        RETURN 'ok';
    END IF;
    UPDATE products x SET name = v_name, short_name = coalesce(p_product->>'short_name', ''),
        item_ref = coalesce(p_product->>'item_ref', ''), price_band = coalesce(p_product->>'price_band', ''),
        selling_points = coalesce(p_product->'selling_points', '[]'), material = coalesce(p_product->>'material', ''),
        size = coalesce(p_product->>'size', ''), care = coalesce(p_product->>'care', ''),
        gift = coalesce(p_product->>'gift', ''), promotion = coalesce(p_product->>'promotion', ''),
        deleted = p_deleted, version = p_expected + 1
    WHERE x.id = p_id AND x.shop = p_shop RETURNING x.id INTO v_found;
    IF v_found IS NULL THEN
        RAISE EXCEPTION '没有这个商品 / no such product: %', p_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN 'ok';
END $$;

-- The buyer, for a change that follows its holder (a product link, a call, 勿扰): P0002 unless the
-- caller serves its shop, KF423 while another agent's lease runs (a supervisor of the shop may).
-- Locked FOR SHARE: a take-over waits until this change is in, and then sees it.
CREATE FUNCTION kefu_buyer_for_write(p_buyer uuid) RETURNS buyers
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE b buyers;
BEGIN
    SELECT * INTO b FROM buyers x WHERE x.id = p_buyer FOR SHARE;
    IF NOT FOUND OR NOT b.shop = ANY (kefu_shops_of(session_user)) THEN
        RAISE EXCEPTION '没有这个买家 / no such buyer: %', p_buyer USING ERRCODE = 'no_data_found';
    END IF;
    IF b.holder IS NOT NULL AND b.holder <> session_user AND b.held_until > now()
       AND NOT b.shop = ANY (kefu_supervised_shops(session_user)) THEN
        RAISE EXCEPTION '% 跟进中，只有跟进人或主管可以修改 / held by % (%): only the holder or a supervisor may change it',
            (SELECT a.display_name FROM agents a WHERE a.role = b.holder),
            (SELECT a.display_name FROM agents a WHERE a.role = b.holder), b.holder USING ERRCODE = 'KF423';
    END IF;
    RETURN b;
END $$;

-- Link (p_present) or unlink a buyer and a product of its shop; p_chosen makes it the one the fields
-- fill from (the buyer's other links are then not chosen). Re-linking makes it the latest.
CREATE FUNCTION kefu_link_product(p_buyer uuid, p_product uuid, p_chosen boolean, p_present boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE b buyers := kefu_buyer_for_write(p_buyer);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM products p WHERE p.id = p_product AND p.shop = b.shop) THEN
        RAISE EXCEPTION '没有这个商品 / no such product: %', p_product USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO buyer_products (buyer, product, shop, chosen, present, updated_by)
    VALUES (p_buyer, p_product, b.shop, coalesce(p_chosen, false) AND p_present, p_present, session_user)
    ON CONFLICT (buyer, product) DO UPDATE SET chosen = EXCLUDED.chosen, present = EXCLUDED.present,
        linked_at = now(), updated_by = EXCLUDED.updated_by;
    IF p_chosen AND p_present THEN
        UPDATE buyer_products x SET chosen = false, updated_by = session_user
        WHERE x.buyer = p_buyer AND x.product <> p_product AND x.chosen;
    END IF;
    RETURN 'ok';
END $$;

-- One call of a shop promotion's phone list, once by its id. `at` is the server's time.
CREATE FUNCTION kefu_record_call(p_id uuid, p_promotion uuid, p_buyer uuid, p_outcome text, p_client_at timestamptz,
                                 p_retry_at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE b buyers := kefu_buyer_for_write(p_buyer);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM promotions p WHERE p.id = p_promotion AND p.shop = b.shop) THEN
        RAISE EXCEPTION '没有这个活动 / no such promotion: %', p_promotion USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO promotion_calls (id, promotion, buyer, shop, outcome, client_at, retry_at, author)
    VALUES (p_id, p_promotion, p_buyer, b.shop, p_outcome, p_client_at, p_retry_at, session_user)
    ON CONFLICT (id) DO NOTHING;
    RETURN 'ok';
END $$;

-- 勿扰 on or off.
CREATE FUNCTION kefu_set_do_not_call(p_buyer uuid, p_on boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE b buyers := kefu_buyer_for_write(p_buyer);
BEGIN
    UPDATE buyers x SET do_not_call = p_on WHERE x.id = b.id AND x.do_not_call IS DISTINCT FROM p_on;
    RETURN 'ok';
END $$;

REVOKE ALL ON FUNCTION kefu_put_product(uuid, uuid, integer, jsonb, boolean), kefu_buyer_for_write(uuid),
    kefu_link_product(uuid, uuid, boolean, boolean),
    kefu_record_call(uuid, uuid, uuid, text, timestamptz, timestamptz), kefu_set_do_not_call(uuid, boolean)
    FROM PUBLIC;

-- ---------------------------------------------------------------- row-level security
ALTER TABLE products ENABLE ROW LEVEL SECURITY;
CREATE POLICY products_read ON products FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY products_insert ON products FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));
CREATE POLICY products_update ON products FOR UPDATE
    USING (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));

ALTER TABLE buyer_products ENABLE ROW LEVEL SECURITY;
CREATE POLICY buyer_products_read ON buyer_products FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE promotion_calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY promotion_calls_read ON promotion_calls FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));

ALTER TABLE shop_synonyms ENABLE ROW LEVEL SECURITY;
CREATE POLICY shop_synonyms_read ON shop_synonyms FOR SELECT
    USING (shop = ANY ((SELECT kefu_shops_of(current_user::text))::uuid[]));
CREATE POLICY shop_synonyms_insert ON shop_synonyms FOR INSERT
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));
CREATE POLICY shop_synonyms_update ON shop_synonyms FOR UPDATE
    USING (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]))
    WITH CHECK (shop = ANY ((SELECT kefu_supervised_shops(current_user::text))::uuid[]));

-- Every earlier grant, then step 8's: agents read the new tables and change links, calls and 勿扰
-- through the functions only (buyer_products, promotion_calls and buyers.do_not_call are granted
-- for nothing else); products and synonyms are the supervisor group's to write.
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
END $$;
SELECT kefu_team_grants(id) FROM teams;
