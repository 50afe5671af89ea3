-- kefu team schema step 6: the buyer's mood
-- The buyer's mood as an agent last marked it (review invites are offered only to a pleased buyer,
-- assistant/core/invites.py): a field like the others, the newer write wins (server order). Agents
-- may write it on the buyers they may update (the step-4 row policy).
ALTER TABLE buyers ADD COLUMN mood text
    CHECK (mood IS NULL OR mood IN ('pleased', 'calm', 'unhappy', 'angry', 'confused'));

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
END $$;
SELECT kefu_team_grants(id) FROM teams;
