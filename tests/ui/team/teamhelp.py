"""Shop replies for the UI tests, made the way a pull makes them (replies.apply_shop_row)."""

from __future__ import annotations

import uuid

from assistant.core import replies, settings

SHOP = "11111111-2222-3333-4444-555555555555"
SHOP_NAME = "小熊旗舰店"
OTHER_SHOP = "66666666-7777-8888-9999-000000000000"


def join_team(store, kind: str = "agent") -> None:
    settings.set(store, "team.server", "postgresql://h:5432/db?sslmode=prefer")
    settings.set(store, "team.kind", kind)
    with store.write() as db:
        db.execute("INSERT OR REPLACE INTO team_shops (uuid, name) VALUES (?, ?)", (SHOP, SHOP_NAME))
        db.execute("INSERT OR REPLACE INTO team_shops (uuid, name) VALUES (?, ?)", (OTHER_SHOP, "二店"))


def add_shop_reply(store, title: str = "店铺欢迎语", body: str = "亲，欢迎光临小熊旗舰店～", code: str = "",
                   version: int = 3) -> replies.Reply:
    rid = str(uuid.uuid4())
    with store.write():
        outcome = replies.apply_shop_row(store, {
            "id": rid, "shop": SHOP, "group_path": "售前/问候", "title": title, "body": body, "code": code,
            "language": "zh", "platforms": [], "angle": None, "version": version, "deleted": False})
    assert outcome == "added"
    return replies.get_reply(store, rid)


def outbox_rows(store) -> list[dict]:
    return [dict(r) for r in store.query("SELECT kind, target, body FROM team_outbox ORDER BY id")]
