-- kefu team schema step 3: change feed, idempotent operations
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
