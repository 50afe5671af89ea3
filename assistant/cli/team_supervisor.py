"""The supervisor's commands (assistant/team/supervisor.py), run as the connected role:
`kefu team holders`, `report`, `reassign`, `history`, `revert`, `disable`, `reset-password`.
A role that is not a supervisor is refused with one line and exit code 2.

Nicknames are printed to the supervisor's terminal (that is the point) and never logged.
Times are the server's, shown in the agent's time zone (setting reminders.agent_tz, else this PC's).

assistant/cli/team.py's register() calls register(tsub, add).
"""

from __future__ import annotations

import contextlib
from datetime import date

from ..errors import ValidationError
from . import out as cliout

_out = cliout.out
_json = cliout.json_out

ACTIONS = {"created": "新建 created", "edited": "修改 edited", "deleted": "删除 deleted", "restored": "恢复 restored"}
STATE_NAMES = {"following": "跟进中", "paid": "已付款", "lost": "已流失", "paused": "已暂停"}


def _modules():
    from ..team import connection

    connection._require("psycopg")  # a missing extra says how to install it, not a traceback
    from ..team import supervisor

    return connection, supervisor


@contextlib.contextmanager
def _session(ctx):
    """(connection, supervisor module, me) for one command; refused unless a supervisor."""
    connection, supervisor = _modules()
    import psycopg

    client = connection.open_client(ctx.store)
    try:
        try:
            conn = client.conn
            me = supervisor.require_supervisor(conn)
            yield conn, supervisor, me
        except psycopg.OperationalError as exc:
            raise connection.lost(exc) from None
    finally:
        client.close()


def _zone(ctx):
    from ..core import settings, zones

    return zones.zone_or_local(settings.get(ctx.store, "reminders.agent_tz"))


def _when(value, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _iso(value, tz):
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None


def _clip(text: str | None, width: int = 40) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# ------------------------------------------------------------------ holders
def cmd_team_holders(ctx) -> int:
    tz = _zone(ctx)
    with _session(ctx) as (conn, sup, me):
        team_agents = sup.agents(conn)
        only = sup.resolve_agent(conn, me, ctx.args.agent, team_agents) if ctx.args.agent else None
        rows = sup.holders(conn)
    groups: dict[str, list] = {}
    pool = []
    for b in rows:
        if b.holder is None:
            pool.append(b)
        else:
            groups.setdefault(b.holder, []).append(b)
    if only is not None:
        groups = {only.role: groups.get(only.role, [])}
        pool = []
    order = sorted(groups, key=lambda r: (sup.label(team_agents, r), r))

    def item(b) -> dict:
        return {"id": b.id, "nickname": b.nickname, "platform": b.platform, "shop": b.shop, "state": b.state,
                "starred": b.starred, "held_until": _iso(b.held_until, tz), "last_chase": _iso(b.last_chase, tz),
                "chases": b.chases}

    if ctx.args.json:
        _json({"agents": [{"role": r, "name": team_agents[r].name if r in team_agents else r,
                           "display_name": sup.label(team_agents, r), "buyers": [item(b) for b in groups[r]]}
                          for r in order],
               "pool": [item(b) for b in pool]})
        return 0
    if not order and not pool:
        _out("没有人跟进买家，待接池也是空的 / nobody holds a buyer and the pool is empty")
        return 0
    headers = ["买家 Buyer", "平台 Platform", "店铺 Shop", "跟进到 Held until", "上次催单 Last chase", "次数 Chases"]
    widths = [24, 12, 16, 16, 16, 8]
    for role in order:
        who = sup.label(team_agents, role)
        _out(f"== {who} ({role})  跟进 {len(groups[role])} 位买家 holds {len(groups[role])} buyer(s)")
        if groups[role]:
            cliout.table([[b.nickname, b.platform, b.shop, _when(b.held_until, tz), _when(b.last_chase, tz),
                           str(b.chases)] for b in groups[role]], headers, widths)
        _out()
    if pool:
        _out(f"== 待接 pool  {len(pool)} 位已加星、无人跟进的买家 starred buyers nobody holds")
        cliout.table([[b.nickname, b.platform, b.shop, "-", _when(b.last_chase, tz), str(b.chases)] for b in pool],
                     headers, widths)
    return 0


# ------------------------------------------------------------------ report
def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what}日期无效，应写成 YYYY-MM-DD：{text}",
                              f"invalid {what or 'date'} date, write YYYY-MM-DD: {text}") from None


def _days(ctx, tz) -> tuple[date, date]:
    args = ctx.args
    if args.date and (args.date_from or args.date_to):
        raise ValidationError("--date 与 --from/--to 只能选一种", "use either --date or --from/--to")
    if args.date:
        day = _day(args.date, "")
        return day, day
    if args.date_from or args.date_to:
        today = ctx.store.clock.now().astimezone(tz).date()
        first = _day(args.date_from, "起始 from ") if args.date_from else today
        last = _day(args.date_to, "结束 to ") if args.date_to else today
        if last < first:
            raise ValidationError("结束日期早于起始日期", "--to is before --from")
        if (last - first).days > 366:
            raise ValidationError("时间范围最多一年", "the range may span one year at most")
        return first, last
    today = ctx.store.clock.now().astimezone(tz).date()
    return today, today


def cmd_team_report(ctx) -> int:
    from ..core import zones

    tz = _zone(ctx)
    first, last = _days(ctx, tz)
    start = zones.day_window(first, tz)[0]
    end = zones.day_window(last, tz)[1]
    with _session(ctx) as (conn, sup, _me):
        team_agents = sup.agents(conn)
        rows = sup.report(conn, start, end)
    span = first.isoformat() if first == last else f"{first.isoformat()} .. {last.isoformat()}"
    if ctx.args.json:
        _json({"from": first.isoformat(), "to": last.isoformat(), "zone": zones.zone_name(tz),
               "start": _iso(start, tz), "end": _iso(end, tz),
               "agents": [{"role": r.role, "display_name": sup.label(team_agents, r.role),
                           "chases": r.chases, "buyers": r.buyers, "collisions": r.collisions,
                           "collided": r.collided, "claims": r.claims, "received": r.received, "given": r.given,
                           "released": r.released, "first_chase": _iso(r.first_chase, tz),
                           "last_chase": _iso(r.last_chase, tz), "outcomes": r.outcomes} for r in rows]})
        return 0
    _out(f"团队报表 Team report {span}  ({zones.zone_name(tz)}: {_when(start, tz)} – {_when(end, tz)})")
    if not rows:
        _out("这段时间没有催单或认领记录 / no chases or claims in this period")
        return 0
    cliout.table([[sup.label(team_agents, r.role), str(r.chases), str(r.buyers), str(r.collisions), str(r.collided),
                   str(r.claims), str(r.received), str(r.given), str(r.released),
                   f"{_when(r.first_chase, tz)[11:]}–{_when(r.last_chase, tz)[11:]}" if r.chases else "-",
                   " ".join(f"{STATE_NAMES.get(s, s)} {n}" for s, n in sorted(r.outcomes.items())) or "-"]
                  for r in rows],
                 ["客服 Agent", "催单 Chases", "买家 Buyers", "撞单 Collisions", "被撞 Collided", "认领 Claims",
                  "接手 Received", "转出 Given", "释放 Released", "时段 Hours", "结果 Outcomes (state now)"],
                 [20, 8, 8, 8, 8, 8, 8, 8, 8, 12, 40])
    return 0


# ------------------------------------------------------------------ reassign
def cmd_team_reassign(ctx) -> int:
    tz = _zone(ctx)
    args = ctx.args
    with _session(ctx) as (conn, sup, me):
        team_agents = sup.agents(conn)
        done = sup.reassign(conn, me, args.nickname, args.to, platform=args.platform, shop=args.shop)
    old = sup.label(team_agents, done.old) if done.old else "待接 pool"
    new = sup.label(team_agents, done.new)
    if args.json:
        _json({"buyer": done.buyer, "nickname": done.nickname, "platform": done.platform, "shop": done.shop,
               "from": done.old, "to": done.new, "held_until": _iso(done.held_until, tz)})
        return 0
    _out(f"已改派 Reassigned {done.nickname} ({done.platform}, {done.shop}): {old} → {new} "
         f"(跟进到 held until {_when(done.held_until, tz)}; 各面板同步后可见 panels see it with their next sync)")
    return 0


# ------------------------------------------------------------------ history / revert
def cmd_team_history(ctx) -> int:
    tz = _zone(ctx)
    with _session(ctx) as (conn, sup, _me):
        team_agents = sup.agents(conn)
        rows = sup.history(conn, ctx.args.reply, limit=ctx.args.limit)
    if ctx.args.json:
        def fields(snap):
            return None if snap is None else {k: snap.get(k) for k in (*sup.REPLY_FIELDS, "deleted", "version")}

        _json([{"id": h.id, "reply": h.reply, "shop": h.shop, "version": h.version, "action": h.action,
                "changed_by": h.changed_by, "changed_by_name": sup.label(team_agents, h.changed_by),
                "changed_at": _iso(h.changed_at, tz), "before": fields(h.before), "after": fields(h.after)}
               for h in rows])
        return 0
    if not rows:
        _out("没有话术修改记录 / no shop library changes")
        return 0
    for h in rows:
        _out(f"v{h.version}  {_when(h.changed_at, tz)}  {sup.label(team_agents, h.changed_by)}  "
             f"{ACTIONS[h.action]}  {h.reply[:8]}  [{h.shop}]")
        before = h.before or {}
        if h.before is None:
            _out(f"    标题 title: {_clip(h.after.get('title'))}")
            _out(f"    正文 body:  {_clip(h.after.get('body'))}")
            continue
        if before.get("title") != h.after.get("title"):
            _out(f"    标题 title: {_clip(before.get('title'))} → {_clip(h.after.get('title'))}")
        else:
            _out(f"    标题 title: {_clip(h.after.get('title'))}")
        if before.get("body") != h.after.get("body"):
            _out(f"    正文 body:  {_clip(before.get('body'))} → {_clip(h.after.get('body'))}")
        for key, name in (("code", "短码 code"), ("group_path", "分组 group")):
            if before.get(key) != h.after.get(key):
                _out(f"    {name}: {before.get(key) or '-'} → {h.after.get(key) or '-'}")
    _out("恢复某一版 / to restore a version: kefu team revert REPLY_ID VERSION")
    return 0


def cmd_team_revert(ctx) -> int:
    with _session(ctx) as (conn, sup, _me):
        done = sup.revert(conn, ctx.args.reply_id, ctx.args.version)
    if ctx.args.json:
        _json({"reply": done.reply, "restored": done.restored, "version": done.version, "changed": done.changed,
               "undeleted": done.undeleted, "title": done.title})
        return 0
    if not done.changed:
        _out(f"“{done.title}”已是第 {done.restored} 版的内容，未更改 / already has version {done.restored}'s text: "
             "nothing changed")
        return 0
    again = "（已恢复被删除的话术 undeleted）" if done.undeleted else ""
    _out(f"已把“{done.title}”恢复为第 {done.restored} 版的内容，现为第 {done.version} 版{again} / restored version "
         f"{done.restored}; the reply is now version {done.version}")
    return 0


# ------------------------------------------------------------------ agents
def cmd_team_disable(ctx) -> int:
    with _session(ctx) as (conn, sup, me):
        agent, was_active, released = sup.disable(conn, me, ctx.args.agent)
    if ctx.args.json:
        _json({"role": agent.role, "was_active": was_active, "released": released})
        return 0
    if not was_active:
        _out(f"{agent.label} ({agent.role}) 本来就已停用 / was already disabled; 释放买家 buyers released: {released}")
        return 0
    _out(f"已停用 {agent.label} ({agent.role})：不再看到任何店铺，{released} 位买家回到待接池 / disabled: it sees no "
         f"shop any more and {released} buyer(s) returned to the pool")
    _out(f"如需同时禁止登录，请管理员运行 / to stop its login too, an admin runs: kefu team disable-agent ADMIN_URL "
         f"--team {me.team} {agent.name}")
    return 0


def _needs_admin(me, agent) -> ValidationError:
    return ValidationError(
        f"重置密码需要 PostgreSQL 的 CREATEROLE 权限，主管账号 {me.role} 没有：请管理员运行 "
        f"kefu team set-password ADMIN_URL --team {me.team} {agent.name}",
        f"resetting a password needs PostgreSQL's CREATEROLE, which the supervisor role {me.role} lacks: "
        f"an admin runs `kefu team set-password ADMIN_URL --team {me.team} {agent.name}`")


def cmd_team_reset_password(ctx) -> int:
    import psycopg

    from ..team import admin
    from .team_admin import _new_password

    with _session(ctx) as (conn, sup, me):
        agent = sup.resolve_agent(conn, me, ctx.args.agent)
        if not sup.can_create_roles(conn):  # checked before the new password is asked
            raise _needs_admin(me, agent)
        password = _new_password(admin, agent.role, ctx.args.password_stdin)
        try:
            sup.reset_password(conn, me, agent.role, password)
        except psycopg.errors.InsufficientPrivilege:  # PostgreSQL 16+: CREATEROLE alone is not enough
            raise _needs_admin(me, agent) from None
    if ctx.args.json:
        _json({"role": agent.role, "reset": True})
        return 0
    _out(f"已重置 {agent.label} ({agent.role}) 的密码；对方需重新运行 kefu team connect / reset the password of "
         f"{agent.role}; the agent runs `kefu team connect` again")
    return 0


def register(tsub, add) -> None:
    p = add(tsub, "holders", cmd_team_holders,
            "supervisor: who holds which buyer, and the pool / 主管：谁在跟进哪些买家、待接池", True)
    p.add_argument("--agent", metavar="NAME", help="only this agent (name, role or display name) / 只看此客服")
    p = add(tsub, "report", cmd_team_report,
            "supervisor: chases and outcomes per agent for a day or a range / 主管：客服催单报表", True)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="one day (default today) / 某一天（默认今天）")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day / 起始日期")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (inclusive) / 结束日期（含）")
    p = add(tsub, "reassign", cmd_team_reassign,
            "supervisor: give a buyer to another agent / 主管：改派买家", True)
    p.add_argument("nickname", metavar="NICKNAME")
    p.add_argument("--to", required=True, metavar="NAME", help="the receiving agent / 接手的客服")
    p.add_argument("--platform", help="when several buyers share the nickname / 平台")
    p.add_argument("--shop", help="when several buyers share the nickname / 店铺")
    p = add(tsub, "history", cmd_team_history,
            "supervisor: the shop library's change history, newest first / 主管：店铺话术修改记录", True)
    p.add_argument("reply", nargs="?", metavar="REPLY_TITLE_OR_ID", help="one reply (id, or part of its title)")
    p.add_argument("--limit", type=cliout.whole_number(1, 10000), default=50, help="rows (default 50) / 条数")
    p = add(tsub, "revert", cmd_team_revert,
            "supervisor: restore a version of a shop reply / 主管：恢复话术的某一版", True)
    p.add_argument("reply_id", metavar="REPLY_ID")
    p.add_argument("version", metavar="VERSION", type=cliout.whole_number(1))
    p = add(tsub, "disable", cmd_team_disable,
            "supervisor: disable an agent who left; their buyers return to the pool / 主管：停用离职客服", True)
    p.add_argument("agent", metavar="NAME")
    p = add(tsub, "reset-password", cmd_team_reset_password,
            "supervisor with CREATEROLE: reset an agent's password (else an admin's set-password) / 主管：重置密码",
            True)
    p.add_argument("agent", metavar="NAME")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the new password as one line from stdin / 从标准输入读取新密码")
