"""`kefu orders ...`: unpaid orders (催付, core/orders.py).

assistant/cli/main.py calls register(sub, add, common). An order is named by #id, its full number, or
the end of its number (4+ characters, as the cards show it: 尾号5678). Order numbers are printed
masked except `show ORDER --reveal` and `export --full-numbers`. Errors are one bilingual line with
the usual exit codes (2 bad input, 4 not found, 5 bad import file).
"""

from __future__ import annotations

import sys

from . import out as cliout

_out = cliout.out
_json = cliout.json_out


def _tz(store):
    from ..core import reminders

    return reminders.get_config(store).agent_tz


def _fmt(when, tz) -> str:
    return when.astimezone(tz).strftime("%m-%d %H:%M") if when else "-"


def _who(ctx) -> dict:
    """The buyer of a new order: with --platform, found or created by nickname (and shop); without
    it, the one existing buyer of that nickname."""
    from ..core import customers

    a = ctx.args
    if a.platform:
        return {"platform": a.platform, "nickname": a.buyer, "shop": a.shop or ""}
    return {"buyer_id": customers.find_buyer(ctx.store, a.buyer, None, a.shop).id}


def _status_text(order, now) -> str:
    from ..core import orders

    if order.overdue(now):
        return "已过关闭时间 overdue"
    zh, en = orders.STATUSES[order.status]
    return f"{zh} {en}"


def _reveal(store, order_id: int) -> str:
    """The full number: this PC's copy, or for a team order only the server holds in full, the server's
    audited reveal (kefu_reveal_order_number records who asked, never the number)."""
    from ..core import orders, settings

    def remote(order_uuid: str) -> str | None:
        from ..team import connection

        client = connection.open_client(store)
        try:
            return client.reveal_order_number(order_uuid)
        finally:
            client.close()

    return orders.reveal_order_text(store, order_id, remote if settings.get(store, "team.server") else None)


def _print(store, order, now, reveal: bool = False) -> None:
    from ..core import orders

    tz = _tz(store)
    number = _reveal(store, order.id) if reveal else order.order_masked
    _out(f"订单 Order #{order.id}: {number}    {_status_text(order, now)}")
    _out(f"买家 Buyer: {order.nickname} ({order.platform}{(' / ' + order.shop) if order.shop else ''})")
    _out(f"金额 Amount: {order.amount_text or '-'}    商品 Item: {order.item or '-'}")
    _out(f"下单 Placed: {_fmt(order.ordered_at, tz)}    关闭 Closes: {_fmt(order.deadline_at, tz)}"
         f"{'' if order.deadline_given else '（平台默认 platform default）'}")
    if order.open:
        _out(f"{orders.countdown(order.deadline_at, now)} / {orders.countdown(order.deadline_at, now, 'en')}")
        _out(f"下次催付 Next reminder: {_fmt(order.next_due, tz)}")


def cmd_add(ctx) -> int:
    from ..core import orders

    a = ctx.args
    tz, now = _tz(ctx.store), ctx.store.clock.now()
    placed = orders.parse_time(a.created, tz, now) if a.created else None
    closes = orders.parse_time(a.deadline, tz, now) if a.deadline else None
    order, _ = orders.add_order(ctx.store, a.order_no, amount=a.amount, ordered_at=placed, deadline=closes,
                                item=a.item or "", **_who(ctx))
    if a.json:
        _json(order.to_dict())
    else:
        _out(f"已添加未付款订单 Added unpaid order #{order.id}: {order.order_masked}  "
             f"下次催付 next reminder {_fmt(order.next_due, tz)}")
    return 0


def _read_text(arg: str | None) -> str:
    from ..errors import ValidationError

    if arg not in (None, "-"):
        return arg  # type: ignore[return-value]
    raw = sys.stdin.buffer.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("输入不是 UTF-8 文本", "The text on stdin is not UTF-8", field="text") from None


def cmd_paste(ctx) -> int:
    from ..core import orders

    a = ctx.args
    order, added, parsed = orders.paste_order(ctx.store, _read_text(a.text), **_who(ctx))
    if a.json:
        _json({**order.to_dict(), "added": added, "found": parsed.found})
        return 0
    names = {"order_no": "订单号", "amount": "金额", "ordered_at": "下单时间", "deadline": "关闭时间", "item": "商品"}
    found = "、".join(names[f] for f in parsed.found)
    _out(f"{'已添加' if added else '已更新'}订单 {'Added' if added else 'Updated'} order #{order.id}: {order.order_masked}"
         f"  （读到 read: {found}）")
    _print(ctx.store, order, ctx.store.clock.now())
    return 0


def cmd_list(ctx) -> int:
    from ..core import customers, orders

    a = ctx.args
    buyer_id = customers.find_buyer(ctx.store, a.buyer, a.platform, a.shop).id if a.buyer else None
    items = orders.list_orders(ctx.store, buyer_id=buyer_id, status=a.status)
    now, tz = ctx.store.clock.now(), _tz(ctx.store)
    if a.json:
        _json([o.to_dict() for o in items])
        return 0
    cliout.table([[f"#{o.id}", o.order_masked, o.nickname, o.amount_text or "-", _fmt(o.deadline_at, tz),
                   orders.countdown(o.deadline_at, now) if o.open else orders.STATUSES[o.status][0],
                   _fmt(o.next_due, tz)] for o in items],
                 ["ID", "订单号", "买家", "金额", "关闭", "状态", "下次催付"], [6, 24, 16, 10, 11, 16, 11])
    _out(f"{len(items)} orders / 共 {len(items)} 个订单")
    return 0


def cmd_show(ctx) -> int:
    from ..core import orders

    a = ctx.args
    order = orders.get_order(ctx.store, a.order)
    now = ctx.store.clock.now()
    proposal = orders.propose(ctx.store, order.id, now) if order.open else None
    if a.json:
        data = order.to_dict()
        if a.reveal:
            data["order_no"] = _reveal(ctx.store, order.id)
        if proposal is not None:
            data["proposal"] = proposal.to_dict()
        _json(data)
        return 0
    _print(ctx.store, order, now, reveal=a.reveal)
    if proposal is not None and proposal.reply_body:
        from ..core import templates

        text = templates.render(proposal.reply_body, {"客户": order.nickname, **proposal.values}).text
        _out(f"催付话术 Script ({proposal.reply_title}): {text}")
    return 0


def _set(ctx, status: str) -> int:
    from ..core import orders

    order = orders.set_status(ctx.store, ctx.args.order, status)
    zh, en = orders.STATUSES[status]
    _out(f"订单 #{order.id} {order.order_masked} 已标记为{zh}，催付提醒已停止 / marked {en}, its reminders stopped")
    return 0


def cmd_paid(ctx) -> int:
    return _set(ctx, "paid")


def cmd_closed(ctx) -> int:
    return _set(ctx, "closed")


def cmd_import(ctx) -> int:
    from ..core import orders

    a = ctx.args
    result = orders.import_file(ctx.store, a.file, platform=a.platform, shop=a.shop)
    if a.json:
        _json({"added": result.added, "updated": result.updated, "skipped": result.skipped})
    else:
        _out(f"已导入 Imported: 新增 {result.added} added, 更新 {result.updated} updated, "
             f"跳过（已付款/已关闭且未记录）{result.skipped} skipped")
    return 0


def cmd_export(ctx) -> int:
    from ..core import orders

    a = ctx.args
    n = orders.export_file(ctx.store, a.file, status=a.status, full_numbers=a.full_numbers)
    note = "" if a.full_numbers else "（订单号已遮盖 numbers masked）"
    _out(f"已导出 {n} 个订单 Exported {n} orders{note}: {a.file}")
    return 0


def cmd_template(ctx) -> int:
    from ..core import orders

    orders.export_file(ctx.store, ctx.args.file, template=True)
    _out(f"已写出模板（一行示例，可直接改）Template written (one example row): {ctx.args.file}")
    return 0


def register(sub, add, common) -> None:
    orders_p = sub.add_parser("orders", help="unpaid orders and their 催付 / 未付款订单", parents=[common])
    osub = orders_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)

    def who(p, required: bool = True) -> None:
        p.add_argument("--buyer", required=required, metavar="NICK", help="the buyer's nickname / 买家昵称")
        p.add_argument("--platform", help="taobao, jd, pdd, ... (creates the buyer when new) / 平台")
        p.add_argument("--shop", help="shop / 店铺")

    statuses = ("unpaid", "paid", "closed", "all")
    p = add(osub, "add", cmd_add, "add an unpaid order / 添加未付款订单", True)
    p.add_argument("order_no", metavar="ORDER_NO", help="the order number / 订单号")
    who(p)
    p.add_argument("--amount", help="199 or 199.00 / 金额")
    p.add_argument("--created", metavar="TIME", help="when it was placed, '2026-11-10 14:02' (default now) / 下单时间")
    p.add_argument("--deadline", metavar="TIME", help="when it closes unpaid (default: the platform's) / 关闭时间")
    p.add_argument("--item", help="what was ordered / 商品")
    p = add(osub, "paste", cmd_paste, "add or update an order from the text the chat client shows / 粘贴订单文字", True)
    p.add_argument("text", nargs="?", help="the order text ('-' or nothing: read it from stdin) / 订单文字")
    who(p)
    p = add(osub, "import", cmd_import, "import a platform's order export, CSV or XLSX (all or nothing) / 导入订单", True)
    p.add_argument("file", help=".csv or .xlsx; headers in README (Unpaid orders)")
    p.add_argument("--platform", help="for a file without a 平台 column / 平台")
    p.add_argument("--shop", help="for rows without a 店铺 value / 店铺")
    p = add(osub, "export", cmd_export, "export orders to CSV or XLSX / 导出订单")
    p.add_argument("file", help=".csv or .xlsx")
    p.add_argument("--status", choices=statuses, default="all")
    p.add_argument("--full-numbers", action="store_true", help="full order numbers (re-importable) / 完整订单号")
    p = add(osub, "template", cmd_template, "write an import template (.csv or .xlsx) / 导出导入模板")
    p.add_argument("file", help=".csv or .xlsx")
    p = add(osub, "list", cmd_list, "list orders (unpaid by default; numbers masked) / 订单列表", True)
    p.add_argument("--status", choices=statuses, default="unpaid")
    who(p, required=False)
    p = add(osub, "show", cmd_show, "one order, its countdown and the 催付 script / 查看订单", True)
    p.add_argument("order", metavar="ORDER", help="#id, the number or its last 4+ characters")
    p.add_argument("--reveal", action="store_true", help="show the full order number / 显示完整订单号")
    p = add(osub, "paid", cmd_paid, "the order was paid: its 催付 stops / 已付款")
    p.add_argument("order", metavar="ORDER", help="#id, the number or its last 4+ characters")
    p = add(osub, "closed", cmd_closed, "the platform closed it unpaid: its 催付 stops / 已关闭")
    p.add_argument("order", metavar="ORDER", help="#id, the number or its last 4+ characters")
