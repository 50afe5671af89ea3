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

NOT_YET = "not yet implemented (sync comes in a later version) / 尚未实现（同步功能在后续版本）"


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


def _print(status, as_json: bool) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(status.server)
    where = f"{parts.netloc}{parts.path}"
    if as_json:
        _json({"connected": True, "server": where, "sslmode": parts.query.removeprefix("sslmode="),
               "role": status.role, "team": status.team, "kind": status.kind, "shops": status.shops,
               "schema_version": status.schema_version,
               "last_sync": None, "outbox": None, "claims": None, "sync": "not implemented"})
        return
    kind = {"agent": "客服 agent", "supervisor": "主管 supervisor"}[status.kind]
    _out(f"服务器 Server:   {where}  ({parts.query})")
    _out(f"账号 Role:       {status.role}  ({kind})")
    _out(f"团队 Team:       {status.team}")
    _out(f"店铺 Shops:      {', '.join(status.shops) or '-'}")
    _out(f"数据库版本 Schema: {status.schema_version}")
    _out(f"同步 Sync:       {NOT_YET}")


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
    status = connection.status(ctx.store)
    if status is None:
        if ctx.args.json:
            _json({"connected": False, "mode": "local only"})
        else:
            _out("未连接团队服务器（仅本机） / not connected (local only)")
        return 0
    _print(status, ctx.args.json)
    return 0


def cmd_team_disconnect(ctx) -> int:
    target = _connection().disconnect(ctx.store)
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
    add(tsub, "disconnect", cmd_team_disconnect, "forget the server and the password / 断开并删除密码")
    from .team_admin import register as register_admin  # init, add-agent ... (static: PyInstaller sees it)

    register_admin(tsub, add)
