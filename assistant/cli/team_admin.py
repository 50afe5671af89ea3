"""The team server's admin commands (assistant/team/admin.py): `kefu team init`, `add-shop`,
`add-agent`, `grant-shop`, `set-password`, `disable-agent`, `agents`. Each takes the ADMIN_URL
(`postgresql://USER@HOST[:PORT]/DB[?sslmode=...]`, never with a password) and `--team ID`.

Passwords: the admin's is asked on the terminal; with --password-stdin it is the first line of
stdin, and for add-agent / set-password the agent's new password is the second line (on a terminal
it is asked twice). No option takes a password as an argument, and none is ever printed or logged.

assistant/cli/team.py's register() calls register(tsub, add).
"""

from __future__ import annotations

import getpass

from ..errors import ValidationError
from . import out as cliout
from .team import _read_password

_out = cliout.out
_json = cliout.json_out


def _admin():
    from ..team import connection

    connection._require("psycopg")  # a missing extra says how to install it, not a traceback
    from ..team import admin

    return admin


def _ask(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return _read_password(True)
    password = getpass.getpass(prompt)
    if not password:
        raise ValidationError("没有输入密码，未做任何更改", "no password given: nothing changed")
    return password


def _new_password(admin, role: str, from_stdin: bool) -> str:
    if from_stdin:
        return admin.check_new_password(_ask("", True))
    password = admin.check_new_password(_ask(f"{role} 的新密码 / New password for {role}: ", False))
    if getpass.getpass("再输入一次 / Again: ") != password:
        raise ValidationError("两次输入的密码不一致，未做任何更改", "the two passwords differ: nothing changed")
    return password


def _session(admin, ctx):
    """Parse the URL (and check the team id) before asking for anything, then log in."""
    target = admin.parse_admin_url(ctx.args.admin_url)
    admin.check_team(ctx.args.team)
    return target


def _login(admin, target, ctx):
    password = _ask(f"管理员 {target.user} 的密码 / Password of the admin {target.user}: ", ctx.args.password_stdin)
    return admin.login(target, password)


def cmd_team_init(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    shops = [admin.check_shop_name(s) for s in ctx.args.shop or []]
    with _login(admin, target, ctx) as conn:
        result = admin.init(conn, ctx.args.team, ctx.args.name or "", shops)
    if result.steps:
        steps = ", ".join(map(str, result.steps))
        _out(f"已更新服务器数据库结构（步骤 {steps}） / applied schema step(s) {steps} on {target.where}")
    if result.team_created:
        _out(f"已创建团队 {ctx.args.team} / created team {ctx.args.team}")
    for shop in result.shops_created:
        _out(f"已创建店铺 {shop} / created shop {shop}")
    if not result.changed:
        _out(f"团队 {ctx.args.team} 已就绪，无需更改 / team {ctx.args.team} is already set up: nothing changed")
    return 0


def cmd_team_add_shop(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    shop = admin.check_shop_name(ctx.args.shop_name)
    with _login(admin, target, ctx) as conn:
        admin.add_shop(conn, ctx.args.team, shop)
    _out(f"已在团队 {ctx.args.team} 创建店铺 {shop} / created shop {shop} in team {ctx.args.team}")
    return 0


def cmd_team_add_agent(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    args = ctx.args
    admin.check_agent_name(args.agent)
    shops = [admin.check_shop_name(s) for s in args.shop or []]
    admin.check_display_name(args.display_name or "")
    role = admin.schema.agent_role(args.team, args.agent)
    with _login(admin, target, ctx) as conn:
        admin.check_new_agent(conn, args.team, args.agent, shops)  # before the new password is asked
        password = _new_password(admin, role, args.password_stdin)
        role = admin.add_agent(conn, args.team, args.agent, password, supervisor=args.supervisor, shops=shops,
                               display_name=args.display_name or "")
    kind = "主管 supervisor" if args.supervisor else "客服 agent"
    _out(f"已创建账号 {role}（{kind}；店铺 shops: {', '.join(shops) or '-'}） / created the login role {role}")
    _out(f"客服在自己的电脑上运行 / the agent runs on their PC:\n  kefu team connect {target.agent_url(role)}")
    if target.is_local:
        _out("注意：地址里的服务器名是本机地址，其他电脑需换成服务器的局域网名称或 IP / note: the host is a "
             "loopback address; other PCs need the server's LAN name or IP instead")
    return 0


def cmd_team_grant_shop(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    args = ctx.args
    admin.check_agent_name(args.agent)
    shop = admin.check_shop_name(args.shop_name)
    with _login(admin, target, ctx) as conn:
        granted = admin.grant_shop(conn, args.team, args.agent, shop)
    if granted:
        _out(f"{args.agent} 现在也服务店铺 {shop} / {args.agent} now serves the shop {shop} as well")
    else:
        _out(f"{args.agent} 已服务店铺 {shop}，无需更改 / {args.agent} already serves the shop {shop}: nothing changed")
    return 0


def cmd_team_set_password(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    args = ctx.args
    admin.check_agent_name(args.agent)
    role = admin.schema.agent_role(args.team, args.agent)
    with _login(admin, target, ctx) as conn:
        admin.find_agent(conn, args.team, args.agent)  # a wrong name fails before the new password is asked
        password = _new_password(admin, role, args.password_stdin)
        role = admin.set_password(conn, args.team, args.agent, password)
    _out(f"已重置 {role} 的密码；客服需重新运行 kefu team connect / reset the password of {role}; "
         "the agent runs `kefu team connect` again")
    return 0


def cmd_team_disable_agent(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    args = ctx.args
    admin.check_agent_name(args.agent)
    active = args.enable
    with _login(admin, target, ctx) as conn:
        role, changed, ended = admin.set_active(conn, args.team, args.agent, active)
    if not changed:
        if active:
            _out(f"{role} 本来就是启用的，无需更改 / {role} was already enabled: nothing changed")
        else:
            _out(f"{role} 本来就是停用的，无需更改 / {role} was already disabled: nothing changed")
    elif active:
        _out(f"已启用 {role}：可以再次登录 / enabled {role}: it can log in again")
    else:
        _out(f"已停用 {role}：不能再登录 / disabled {role}: it can no longer log in")
    if ended:
        _out(f"已断开其 {ended} 个连接 / ended {ended} open session(s) of {role}")
    return 0


def cmd_team_agents(ctx) -> int:
    admin = _admin()
    target = _session(admin, ctx)
    with _login(admin, target, ctx) as conn:
        agents = admin.list_agents(conn, ctx.args.team)
    if ctx.args.json:
        _json([{"name": a.name, "role": a.role, "display_name": a.display_name, "kind": a.kind,
                "shops": a.shops, "active": a.active} for a in agents])
        return 0
    if not agents:
        _out(f"团队 {ctx.args.team} 还没有客服账号 / team {ctx.args.team} has no agents yet")
        return 0
    kinds = {"agent": "客服 agent", "supervisor": "主管 supervisor"}
    cliout.table([[a.name, a.display_name, kinds[a.kind], ", ".join(a.shops) or "-",
                   "启用 yes" if a.active else "停用 no"] for a in agents],
                 ["账号 Name", "显示名 Display", "类型 Kind", "店铺 Shops", "启用 Active"], [30, 20, 16, 60, 8])
    return 0


def register(tsub, add) -> None:
    def admin_parser(name, func, help_text, json_flag=False, new_password=False):
        p = add(tsub, name, func, help_text, json_flag)
        p.add_argument("admin_url", metavar="ADMIN_URL",
                       help="postgresql://ADMIN@HOST[:PORT]/DB[?sslmode=...] (no password / 不含密码)")
        p.add_argument("--team", required=True, metavar="ID", help="team id / 团队代号")
        second = " (first line), then the agent's new password (second line) / 第一行管理员密码，第二行新密码" \
            if new_password else " / 从标准输入读取管理员密码"
        p.add_argument("--password-stdin", action="store_true",
                       help="read the admin password from stdin" + second)
        return p

    p = admin_parser("init", cmd_team_init,
                     "admin: create the schema, the team and its shops (idempotent) / 管理员：初始化团队服务器")
    p.add_argument("--name", help="the team's display name / 团队名称")
    p.add_argument("--shop", action="append", metavar="店铺名", help="a shop to create (repeatable) / 店铺")
    p = admin_parser("add-shop", cmd_team_add_shop, "admin: add a shop to the team / 管理员：添加店铺")
    p.add_argument("shop_name", metavar="NAME")
    p = admin_parser("add-agent", cmd_team_add_agent,
                     "admin: create an agent's login role / 管理员：添加客服账号", new_password=True)
    p.add_argument("agent", metavar="NAME", help="lowercase letters, digits, _ / 小写字母、数字、下划线")
    p.add_argument("--supervisor", action="store_true", help="a supervisor (edits the shop library) / 主管")
    p.add_argument("--shop", action="append", metavar="店铺名", help="a shop the agent serves (repeatable) / 店铺")
    p.add_argument("--display-name", metavar="王五", help="the name colleagues see / 显示名")
    p = admin_parser("grant-shop", cmd_team_grant_shop, "admin: let an agent serve one more shop / 管理员：授权店铺")
    p.add_argument("agent", metavar="NAME")
    p.add_argument("shop_name", metavar="SHOP")
    p = admin_parser("set-password", cmd_team_set_password,
                     "admin: reset an agent's password / 管理员：重置客服密码", new_password=True)
    p.add_argument("agent", metavar="NAME")
    p = admin_parser("disable-agent", cmd_team_disable_agent,
                     "admin: stop an agent's login (--enable undoes it) / 管理员：停用客服账号")
    p.add_argument("agent", metavar="NAME")
    p.add_argument("--enable", action="store_true", help="enable the agent again / 重新启用")
    admin_parser("agents", cmd_team_agents, "admin: list the team's agents / 管理员：客服账号列表", json_flag=True)
