-- kefu team schema step 2: shop replies, history, personal replies
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
