"""After-sales cases in team mode, the local side of the outbox (assistant/team/sync.py talks to the
server; core/aftersales.py calls this inside each of its write transactions).

A case is shared when its buyer is (buyers.team_shop): every change of it queues ONE operation,
'aftersales.case', in the change's own transaction: the case's fields after the change, the status
the change started from, and the history lines (aftersales_events) it wrote. The server applies it
with kefu_put_case (team schema step 7), which refuses a status move from a status it no longer
has (two agents moving the same case at once: the later one comes back as a conflict) and inserts
each history line once, by its uuid. The first change of a case whose buyer was shared after the
case was opened sends the whole case with its whole history.

Limits (挽单权限) set by a supervisor in team mode queue 'aftersales.limit', one per shop served.
Kept apart from core/aftersales.py so that core/invites.py (beside reminders) can queue too. Buyer text is
never logged.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from . import customers, outbox, settings
from .store import Store


def is_supervisor(store: Store) -> bool:
    return settings.get(store, "team.kind") == "supervisor"


def event_mark(store: Store) -> int:
    """The newest history line now: the lines a change writes after this are the ones it queues."""
    return int(store.query("SELECT IFNULL(max(id), 0) AS m FROM aftersales_events")[0]["m"])


def require_writable(store: Store, buyer_id: int, zh_action: str = "处理售后单", en_action: str = "work on the case"
                     ) -> None:
    """In team mode a case follows its buyer: another agent's buyer is theirs to work on (a take-over
    first), except for a supervisor. The server refuses it too (KF423)."""
    if not customers.team_role(store) or is_supervisor(store):
        return
    customers.require_free(store, customers.get_buyer(store, buyer_id), zh_action, en_action)


def engage(store: Store, buyer_id: int, now: Any = None) -> None:
    """Opening a case in team mode is following the buyer: shared (when its shop is served) and
    claimed, like a first chase. Inside the caller's write."""
    if not customers.team_role(store):
        return
    require_writable(store, buyer_id, "开售后单", "open a case")
    if customers.share(store, buyer_id) is not None:
        customers.claim(store, buyer_id, now)


_CASE_ROW = (
    "SELECT c.uuid, c.team_shop, c.order_no, c.product, c.problem, c.severity, c.wanted, c.mood, c.feelings, "
    "c.status, c.step, c.outcome, c.outcome_amount, c.warehouse_findings, c.manager_decision, c.decided_by, "
    "b.uuid AS buyer, b.team_shop AS buyer_shop, k.uuid AS category_uuid, k.code AS category_code, "
    "k.name AS category_name FROM aftersales_cases c JOIN buyers b ON b.id = c.buyer_id "
    "JOIN aftersales_categories k ON k.id = c.category_id WHERE c.id = ?")
_EVENT_COLS = "uuid, at, kind, by_name, by_role, status_from, status_to, step, offer, amount, detail"


def queue_case(store: Store, case_id: int, before: str | None, mark: int) -> bool:
    """Queue the change a write just made to case `case_id` (inside that write): `before` is its
    status when the write began (None: a new case), `mark` event_mark() then. False when the case
    is not shared (no team, or its buyer is this PC's only)."""
    if not customers.team_role(store):
        return False
    rows = store.query(_CASE_ROW, (int(case_id),))
    if not rows or rows[0]["buyer_shop"] is None:
        return False
    r = rows[0]
    first = r["team_shop"] is None
    if first:  # shared now: the server hears the whole case, from its first line
        store.conn.execute("UPDATE aftersales_cases SET team_shop = ? WHERE id = ?", (r["buyer_shop"], int(case_id)))
        before, mark = None, 0
    events = store.query(f"SELECT {_EVENT_COLS} FROM aftersales_events WHERE case_id = ? AND id > ? ORDER BY id",
                         (int(case_id), mark))
    outbox.add(store, "aftersales.case", r["uuid"], {
        "buyer": r["buyer"], "from": before,
        "case": {"order_no": r["order_no"], "product": r["product"], "problem": r["problem"],
                 "category": {"id": r["category_uuid"], "code": r["category_code"], "name": r["category_name"]},
                 "severity": r["severity"], "wanted": r["wanted"], "mood": r["mood"], "feelings": r["feelings"],
                 "status": r["status"], "step": r["step"], "outcome": r["outcome"],
                 "outcome_amount": r["outcome_amount"], "warehouse_findings": r["warehouse_findings"],
                 "manager_decision": r["manager_decision"], "decided_by": r["decided_by"]},
        "events": [{"id": e["uuid"], "client_at": e["at"], "kind": e["kind"], "by_name": e["by_name"],
                    "by_role": e["by_role"], "status_from": e["status_from"], "status_to": e["status_to"],
                    "step": e["step"], "offer": e["offer"], "amount": e["amount"], "detail": e["detail"]}
                   for e in events]})
    return True


def queue_buyer_cases(store: Store, buyer_id: int, mark: int, but: int | None = None) -> int:
    """Queue every case of the buyer (but one) that wrote history lines after `mark`: the buyer's
    mood followed into its open cases (core/caseguard.follow_mood), which sits below this module.
    Inside the caller's write; returns how many were queued."""
    rows = store.query("SELECT DISTINCT c.id, c.status FROM aftersales_cases c JOIN aftersales_events e ON e.case_id = c.id "
                       "WHERE c.buyer_id = ? AND c.id != ? AND e.id > ?", (int(buyer_id), int(but or 0), mark))
    return sum(queue_case(store, r["id"], r["status"], mark) for r in rows)


def limit_shops(store: Store, shop: str | None) -> list[str | None]:
    """The server shops a limit set now applies to: in team mode the served shop named `shop` (a
    local shop name), or every shop served; [None] outside team mode (this PC's own limit)."""
    if not customers.team_role(store):
        return [None]
    rows = store.query("SELECT uuid, name FROM team_shops ORDER BY name")
    if shop:
        found = [r["uuid"] for r in rows if r["name"] == shop or r["uuid"] == shop]
        if not found:
            raise ValidationError(f"没有为店铺“{shop}”服务，不能设置它的挽单权限",
                                  f"You do not serve the shop '{shop}': cannot set its limits", field="shop")
        return found
    return [r["uuid"] for r in rows] or [None]


def queue_limit(store: Store, limit_uuid: str) -> None:
    """A limit row of a team shop changed or was deleted (inside the caller's write)."""
    rows = store.query("SELECT uuid, team_shop, agent, severity, product, max_compensation, may_exchange, may_return, "
                       "may_refund FROM aftersales_limits WHERE uuid = ?", (limit_uuid,))
    if not rows or rows[0]["team_shop"] is None:
        return
    r = rows[0]
    outbox.add(store, "aftersales.limit", r["uuid"], {
        "shop": r["team_shop"], "agent": r["agent"], "severity": r["severity"], "product": r["product"],
        "max_compensation": r["max_compensation"], "may_exchange": bool(r["may_exchange"]),
        "may_return": bool(r["may_return"]), "may_refund": bool(r["may_refund"]), "deleted": False})


def queue_limit_deleted(store: Store, row: dict) -> None:
    if row.get("team_shop") is None:
        return
    outbox.add(store, "aftersales.limit", row["uuid"], {
        "shop": row["team_shop"], "agent": row["agent"], "severity": row["severity"], "product": row["product"],
        "max_compensation": 0, "may_exchange": False, "may_return": False, "may_refund": False, "deleted": True})
