"""`kefu team connect URL`, `kefu team status`, `kefu team disconnect`: joining a team server
(assistant/team/connection.py). The password is asked on the terminal or read as one line from
stdin (--password-stdin); there is deliberately no option that takes it as an argument.

assistant/cli/main.py calls register(sub, add, common) from build_parser.
"""

from __future__ import annotations

import getpass
import sys

from ..errors import ValidationError
from . import out as cliout

_out = cliout.out
_json = cliout.json_out



def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = getpass.getpass("团队密码 / Team password: ")
    if not password:
        raise ValidationError("没有输入密码，未连接", "no password given: not connected")
    return password


def _connection():
    from ..team import connection  # GUI-free; psycopg/keyring are imported only when needed

    return connection


def _kind(store) -> str:
    from ..core import settings

    return settings.get(store, "team.kind")


def _print(status, as_json: bool, store=None, offline_reason=None) -> None:
    from urllib.parse import urlsplit

    from ..core import outbox

    parts = urlsplit(status.server)
    where = f"{parts.netloc}{parts.path}"
    from ..core.clock import to_db

    last = outbox.last_sync(store) if store is not None else None
    claims = (store.query("SELECT count(*) AS n FROM buyers WHERE holder = ? AND held_until > ?",
                          (status.role, to_db(store.clock.now())))[0]["n"] if store is not None else 0)
    size = outbox.size(store) if store is not None else 0
    conflicts = len(outbox.conflicts(store)) if store is not None else 0
    if as_json:
        _json({"connected": True, "server": where, "sslmode": parts.query.removeprefix("sslmode="),
               "role": status.role, "team": status.team, "kind": status.kind, "shops": status.shops,
               "schema_version": status.schema_version,
               "last_sync": last, "outbox": size, "conflicts": conflicts, "claims": claims,
               **({"connected": False, "offline": offline_reason.en} if offline_reason else {})})
        return
    if offline_reason is not None:
        _out(f"离线 Offline:     {offline_reason.zh} / {offline_reason.en}")
    kind = {"agent": "客服 agent", "supervisor": "主管 supervisor"}[status.kind]
    _out(f"服务器 Server:   {where}  ({parts.query})")
    _out(f"账号 Role:       {status.role}  ({kind})")
    _out(f"团队 Team:       {status.team}")
    _out(f"店铺 Shops:      {', '.join(status.shops) or '-'}")
    _out(f"数据库版本 Schema: {status.schema_version}")
    _out(f"上次同步 Last sync: {last or '从未 never'}")
    _out(f"待发送 Outbox:   {size}")
    _out(f"冲突 Conflicts:  {conflicts}{'  (kefu team conflicts)' if conflicts else ''}")
    _out(f"跟进中 Claims:   {claims}  (买家由我跟进 buyers I follow, as last synced)")


def cmd_team_connect(ctx) -> int:
    connection = _connection()
    connection.parse_url(ctx.args.url)  # a bad URL or a missing keyring fails before the password prompt
    connection.usable_keyring()
    password = _read_password(ctx.args.password_stdin)
    status = connection.connect(ctx.store, ctx.args.url, password)
    _out("已连接团队服务器 Connected to the team server (password kept in the OS keyring / 密码保存在系统密码库)")
    _print(status, False)
    return 0


def cmd_team_status(ctx) -> int:
    connection = _connection()
    try:
        status = connection.status(ctx.store)
    except connection.TeamError as exc:
        # the server is out of reach: what this PC knows still helps (what waits to be sent)
        target = connection.configured(ctx.store)
        shops = [r["name"] for r in ctx.store.query("SELECT name FROM team_shops ORDER BY name")]
        offline = connection.Status(target.server, target.role, target.team, str(_kind(ctx.store) or "agent"),
                                    shops, 0)
        _print(offline, ctx.args.json, ctx.store, offline_reason=exc)
        return 1
    if status is None:
        if ctx.args.json:
            _json({"connected": False, "mode": "local only"})
        else:
            _out("未连接团队服务器（仅本机） / not connected (local only)")
        return 0
    _print(status, ctx.args.json, ctx.store)
    return 0


def _run_sync(ctx, before=None):
    """One push + pull round; a connection that drops mid-way is a one-line error, nothing lost."""
    connection = _connection()
    client = connection.open_client(ctx.store)
    try:
        import psycopg

        try:
            if before is not None:
                before(client)
            return client.sync()
        except psycopg.Error as exc:
            raise connection.lost(exc) from None
    finally:
        client.close()


def _report(result, as_json: bool, extra: dict | None = None) -> None:
    if as_json:
        _json({"pushed": result.pushed, "resent": result.duplicates, "conflicts": result.conflicts,
               "pulled": result.pulled, "outcomes": result.outcomes, "seconds": round(result.seconds, 3),
               **(extra or {})})
        return
    _out(f"已同步 Synced: 发送 sent {result.pushed}，重发已存在 already there {result.duplicates}，"
         f"冲突 conflicts {result.conflicts}，接收 received {result.pulled}  ({result.seconds:.2f} s)")
    if result.conflicts:
        _out("有修改未被服务器接受，双方内容已保存：kefu team conflicts / "
             "the server refused some changes; both sides are kept: kefu team conflicts")


def cmd_team_sync(ctx) -> int:
    _report(_run_sync(ctx), ctx.args.json)
    return 0


def cmd_team_upload(ctx) -> int:
    """The first upload of an existing kefu.db: every starred buyer this PC follows is shared and
    claimed (anyone), and for a supervisor every own reply goes into a shop library. Both keep
    their ids, so running it again adds nothing."""
    from ..core import customers, replies

    shared: list[int] = []
    buyers: list[int] = []  # one count
    kinds: list[str] = []

    def shared_buyers() -> int:
        return ctx.store.query("SELECT count(*) AS n FROM buyers WHERE team_shop IS NOT NULL")[0]["n"]

    def share(client) -> None:
        before = shared_buyers()
        kind, shops = client.refresh_identity()  # shares followed buyers already (as every sync does)
        kinds.append(kind)
        names = [name for _, name in shops]
        shop = ctx.args.shop
        if kind == "supervisor":
            if shop is None:
                if len(names) != 1:
                    raise ValidationError(f"请用 --shop 指定店铺：{'、'.join(names) or '（无）'}",
                                          f"name the shop with --shop: {', '.join(names) or '(none)'}")
                shop = names[0]
            replies.shop_of(ctx.store, shop)  # an unknown shop fails before anything is queued
        with ctx.store.write():
            if kind == "supervisor":
                for reply in replies.list_replies(ctx.store):
                    if reply.shop is None:
                        replies.share_reply(ctx.store, reply.id, shop)
                        shared.append(reply.id)
            customers.share_followed(ctx.store)
        buyers.append(shared_buyers() - before)

    result = _run_sync(ctx, before=share)
    if not ctx.args.json:
        if kinds and kinds[0] == "supervisor":
            _out(f"上传到店铺话术库 Uploaded to the shop library: {len(shared)}")
        else:
            _out("话术库只由主管上传；已上传你跟进的买家 / only a supervisor uploads the shop library; "
                 "your followed buyers were uploaded")
        _out(f"共享的标星买家 Starred buyers shared: {sum(buyers)}")
    _report(result, ctx.args.json, {"uploaded": len(shared), "buyers": sum(buyers)})
    return 0


def cmd_team_hand_over(ctx) -> int:
    """交班 without a file: the buyers this agent follows (and so their reminders) go to another
    agent, or with no --to to the shop's pool; sent to the server at once."""
    from ..core import customers, reminders

    me = customers.team_role(ctx.store)
    to = None
    if ctx.args.to:
        team = me.split("_")[1] if me.startswith("kefu_") else ""
        to = ctx.args.to if ctx.args.to.startswith("kefu_") else f"kefu_{team}_{ctx.args.to}"
    moved = reminders.hand_over_team(ctx.store, to)
    result = _run_sync(ctx)
    if ctx.args.json:
        _json({"buyers": moved, "to": to, "conflicts": result.conflicts})
        return 0 if not result.conflicts else 1
    if result.conflicts:
        raise ValidationError(f"服务器没有接受交班（接班人 {ctx.args.to} 不是本团队在职的客服？）：kefu team conflicts",
                              f"the server refused the handover (is {ctx.args.to} an active agent of your team?): "
                              "kefu team conflicts")
    target = to or "店铺待接池 the shop's pool"
    _out(f"已交班 Handed over: {moved} 位买家 buyers -> {target}")
    return 0


def cmd_team_pick_up(ctx) -> int:
    """Take the buyers waiting in the shop's pool (a colleague's 交班 to the pool, an agent who
    left), with their reminders; the panel does this by itself when it starts."""
    picked: list[int] = []
    result = _run_sync(ctx, before=lambda client: picked.append(client.pick_up_pool()))
    if ctx.args.json:
        _json({"picked_up": picked[0], "pulled": result.pulled})
        return 0
    _out(f"已从店铺待接池接手 Picked up from the shop's pool: {picked[0]} 位买家 buyers")
    return 0


def cmd_team_conflicts(ctx) -> int:
    from ..core import outbox

    items = outbox.conflicts(ctx.store)
    if ctx.args.json:
        _json([{"id": c.id, "kind": c.kind, "target": c.target, "created_at": c.created_at,
                "mine": c.mine, "theirs": c.theirs} for c in items])
        return 0
    if not items:
        _out("没有同步冲突 / no sync conflicts")
    for c in items:
        title = (c.mine or c.theirs or {}).get("title", "")
        label = {"stale_edit": "修改过期 stale edit", "code_taken": "短码已被占用 code taken",
                 "refused": "服务器拒绝 refused"}.get(c.kind, c.kind)
        _out(f"#{c.id}  {label}  {title}  ({c.created_at})")
    return 0


def cmd_team_disconnect(ctx) -> int:
    target = _connection().disconnect(ctx.store, force=ctx.args.force)
    if target is None:
        _out("未连接团队服务器（仅本机） / not connected (local only)")
    else:
        _out(f"已断开 {target.role} 与团队服务器的连接，密码已从系统密码库删除 / "
             f"disconnected {target.role}; the password was removed from the OS keyring")
    return 0


def register(sub, add, common) -> None:
    team = sub.add_parser("team", parents=[common], help="team server (team mode) / 团队服务器")
    tsub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    p = add(tsub, "connect", cmd_team_connect,
            "join a team server: URL postgresql://kefu_TEAM_NAME@HOST[:PORT]/DB[?sslmode=...] / 连接团队服务器")
    p.add_argument("url")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password as one line from stdin (scripts) / 从标准输入读取密码")
    add(tsub, "status", cmd_team_status, "server, role, team, shops / 团队连接状态", True)
    p = add(tsub, "disconnect", cmd_team_disconnect, "forget the server and the password / 断开并删除密码")
    p.add_argument("--force", action="store_true",
                   help="also drop changes not yet sent to the server / 放弃尚未同步的修改")
    add(tsub, "sync", cmd_team_sync, "send local changes, receive the team's / 立即同步", True)
    add(tsub, "pick-up", cmd_team_pick_up, "take the buyers waiting in the shop's pool / 接手待接池的买家", True)
    p = add(tsub, "upload", cmd_team_upload,
            "supervisor: put this PC's own replies into the shop library (again: no-op) / 主管上传话术库", True)
    p.add_argument("--shop", help="shop name (needed when you serve several) / 店铺名")
    p = add(tsub, "hand-over", cmd_team_hand_over,
            "交班: the buyers you follow go to --to NAME (or the shop's pool) / 交班给同事", True)
    p.add_argument("--to", help="the receiving agent's name (kefu_TEAM_NAME or NAME) / 接班人")
    add(tsub, "conflicts", cmd_team_conflicts, "changes the server refused, both sides kept / 同步冲突", True)
    from .team_admin import register as register_admin  # init, add-agent ... (static: PyInstaller sees it)

    register_admin(tsub, add)
    from .team_supervisor import register as register_supervisor  # holders, report, reassign ... (static)

    register_supervisor(tsub, add)
