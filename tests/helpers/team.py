"""A team on the real PostgreSQL fixture, and agents' local stores joined to it (tests/team/,
tests/benchmarks/bench_team_sync.py): one place, so every team test sets a team up the same way."""

from __future__ import annotations

import secrets

from assistant.core import replies, settings
from assistant.core.store import Store
from assistant.team import schema, sync
from tests.helpers import pg

SERVER = "postgresql://127.0.0.1:5432/kefu?sslmode=prefer"


class Team:
    """A fresh team (unique id: roles are cluster-wide) with two shops, a supervisor and agents."""

    def __init__(self, db: pg.PgDatabase) -> None:
        self.db = db
        self.id = "t" + secrets.token_hex(4)
        self.passwords: dict[str, str] = {}
        with db.connect() as admin:
            schema.apply(admin)
            schema.create_team(admin, self.id)
            self.shop = str(schema.create_shop(admin, self.id, "旗舰店"))
            self.shop2 = str(schema.create_shop(admin, self.id, "二店"))
        for name, sup, shops in (("sup", True, ["旗舰店"]), ("wang", False, ["旗舰店"]),
                                 ("li", False, ["旗舰店"]), ("zhao", False, ["二店"])):
            self.add(name, sup, shops)

    def add(self, name: str, supervisor: bool = False, shops: tuple | list = ("旗舰店",)) -> str:
        password = secrets.token_urlsafe(12)
        with self.db.connect() as admin:
            role = schema.create_agent(admin, self.id, name, password, supervisor=supervisor, shops=shops)
        self.passwords[name] = password
        return role

    def login(self, name: str):
        return self.db.connect(schema.agent_role(self.id, name), self.passwords[name])

    def conninfo(self, name: str) -> str:
        """What a child process logs in with (it has no Team object)."""
        return self.db.conninfo(schema.agent_role(self.id, name), self.passwords[name])

    def admin(self):
        return self.db.connect()

    def server_rows(self) -> list[dict]:
        from psycopg.rows import dict_row

        with self.db.connect() as admin, admin.cursor(row_factory=dict_row) as cur:
            return cur.execute("SELECT id::text, title, body, code, version, deleted FROM shop_replies "
                               "ORDER BY title").fetchall()


_open: list[sync.SyncClient] = []


def close_panels() -> None:
    """Close every client panel() opened (a test's teardown)."""
    while _open:
        client = _open.pop()
        client.close()
        client.store.close()


def panel(tmp_path, team: Team, name: str, *, seed: bool = False, **kw) -> sync.SyncClient:
    """One agent's local store joined to the team, and its sync client (closed by close_panels())."""
    store = Store(tmp_path / f"{name}.db")
    if seed:
        replies.seed_defaults(store)
    settings.set(store, "team.server", SERVER)
    settings.set(store, "team.role", schema.agent_role(team.id, name))
    client = sync.SyncClient(store, lambda: team.login(name), **kw)
    _open.append(client)
    client.refresh_identity()
    return client


def local_shop_rows(store: Store) -> dict[str, tuple]:
    return {r["uuid"]: (r["title"], r["body"], r["code"], r["shop_version"])
            for r in store.query("SELECT uuid, title, body, code, shop_version FROM replies WHERE shop IS NOT NULL")}
