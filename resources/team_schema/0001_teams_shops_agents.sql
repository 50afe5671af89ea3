-- kefu team schema step 1: teams, shops, agents
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
