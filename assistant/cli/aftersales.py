"""`kefu aftersales ...`: after-sales cases (售后单) from the command line (core/aftersales.py).

assistant/cli/main.py calls register(sub, add, common) from build_parser. A case is named by its
number (12 or #12) or a uuid prefix. Order numbers are printed masked except `show CASE --order`;
errors are one bilingual line with the usual exit codes (2 bad input, 4 not found).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, tzinfo

from ..errors import ValidationError
from . import out as cliout
from .buyers import parse_duration

_out = cliout.out
_json = cliout.json_out


def _tz(store) -> tzinfo:
    from ..core import reminders

    return reminders.get_config(store).agent_tz


def _fmt(when: datetime | None, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%m-%d %H:%M") if when else "-"


def _yes_no(text: str | None) -> bool | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("yes", "y", "true", "1", "on", "是", "可以", "允许"):
        return True
    if value in ("no", "n", "false", "0", "off", "否", "不可以", "不允许"):
        return False
    raise ValidationError(f"“{text}”应为 yes 或 no", f"'{text}' must be yes or no", field="limits")


def _platform(code: str) -> str:
    from ..core import customers

    return customers.PLATFORMS.get(code, (code, code))[0]


def _line(case) -> list[str]:
    n = case.names("zh")
    return [case.ref, _platform(case.platform), case.nickname, n["status"], str(case.step), n["severity"], n["mood"],
            case.category, case.order_masked or "-", case.problem]


def _print_case(case, tz) -> None:
    n = case.names("zh")
    _out(f"售后单 Case {case.ref}  [{n['status']} / {case.names('en')['status']}]  第 {case.step}/4 步 step")
    _out(f"买家 Buyer: {case.nickname}  ({_platform(case.platform)}{(' · ' + case.shop) if case.shop else ''})")
    _out(f"订单 Order: {case.order_masked or '-'}    商品 Product: {case.product or '-'}")
    _out(f"问题 Problem: {case.problem}")
    _out(f"分类 Category: {case.category}    程度 Severity: {n['severity']}    诉求 Wants: {n['wanted']}    "
         f"情绪 Mood: {n['mood']}")
    if case.feelings:
        _out(f"感受 Feelings: {case.feelings}")
    if case.warehouse_findings:
        _out(f"仓库 Warehouse: {case.warehouse_findings}")
    if case.manager_decision:
        _out(f"主管 Decision: {case.manager_decision} ({case.decided_by or '-'})")
    if case.outcome:
        from ..core.aftersales import yuan

        amount = f" ¥{yuan(case.outcome_amount)}" if case.outcome_amount is not None else ""
        _out(f"结果 Outcome: {n['outcome']}{amount}    结案 Closed: {_fmt(case.closed_at, tz)}")
    _out(f"开单 Opened: {_fmt(case.opened_at, tz)} by {case.opened_by or '-'}")


# ---------------------------------------------------------------- commands

def cmd_open(ctx) -> int:
    from ..core import aftersales as af
    from ..core import customers
    from ..errors import NotFoundError

    a = ctx.args
    fields = {"problem": a.problem, "category": a.category, "severity": a.severity, "wanted": a.wants,
              "mood": a.mood, "order_no": a.order or "", "product": a.product or "", "feelings": a.feelings or ""}
    if a.platform:
        case = af.open_case(ctx.store, platform=a.platform, nickname=a.nickname, shop=a.shop or "", **fields)
    else:
        try:
            buyer = customers.find_buyer(ctx.store, a.nickname, None, a.shop)
        except NotFoundError:
            raise ValidationError("新买家请用 --platform 指定平台（千牛/京东/拼多多/AliExpress/Amazon/其他）",
                                  "A new buyer needs --platform (taobao, jd, pdd, aliexpress, amazon, other)",
                                  field="platform") from None
        case = af.open_case(ctx.store, buyer_id=buyer.id, **fields)
    if a.json:
        _json(case.to_dict())
        return 0
    _out(f"Opened case {case.ref}; sales chases for this buyer stop until it is closed / "
         f"已开售后单 {case.ref}，结案前不再催单")
    _steps(ctx, case)
    return 0


def _steps(ctx, case) -> None:
    from ..core import aftersales as af

    for item in af.checklist(ctx.store, case.id):
        mark = "✓" if item.done else ("→" if item.current else " ")
        _out(f"  {mark} {item.step}. {item.zh} / {item.en}")
        if item.current:
            _out(f"      {item.hint_zh}")
            for s in item.scripts:
                _out(f"      [{s.code or s.reply_id}] {s.title}")


def cmd_list(ctx) -> int:
    from ..core import aftersales as af
    from ..core import customers

    a = ctx.args
    buyer_id = customers.find_buyer(ctx.store, a.buyer, a.platform, a.shop).id if a.buyer else None
    cases = af.list_cases(ctx.store, status=a.status, buyer_id=buyer_id, limit=a.limit)
    if a.json:
        _json([c.to_dict() for c in cases])
        return 0
    cliout.table([_line(c) for c in cases], ["单号", "平台", "买家", "状态", "步骤", "程度", "情绪", "分类", "订单", "问题"],
                 [6, 10, 16, 10, 4, 4, 4, 10, 20, 30])
    _out(f"{len(cases)} cases / 共 {len(cases)} 单")
    return 0


def cmd_show(ctx) -> int:
    from ..core import aftersales as af

    store, a = ctx.store, ctx.args
    case = af.get_case(store, a.case)
    order = af.reveal_order(store, case.id) if a.order else None
    events = af.history(store, case.id)
    steps = af.checklist(store, case.id)
    proposal = af.proposal(store, case.id) if case.open else None
    follow = af.followups(store, case.id)
    if a.json:
        data = case.to_dict()
        if order is not None:
            data["order_no"] = order
        data["steps"] = [s.to_dict() for s in steps]
        data["proposal"] = proposal.to_dict() if proposal else None
        data["history"] = [e.to_dict() for e in events]
        data["followups"] = [r.to_dict() for r in follow]
        _json(data)
        return 0
    tz = _tz(store)
    _print_case(case, tz)
    if order is not None:
        _out(f"订单号（完整）Order number: {order}")
    _out("安抚步骤 Steps:")
    _steps(ctx, case)
    if proposal is not None:
        allowed = "、".join(af.OFFERS[o][0] for o in proposal.allowed) or "无 none"
        _out(f"挽单建议 Ladder: {proposal.zh} / {proposal.en}    你的权限 Your limit: {proposal.limit.describe('zh')}"
             f"    可直接提出 You may offer: {allowed}")
        for zh, _ in proposal.notes:
            _out(f"  ! {zh}")
        for s in proposal.scripts:
            _out(f"  [{s.code or s.reply_id}] {s.title}")
    if follow:
        _out("跟进提醒 Follow-ups:")
        names = af.followup_names()
        for r in follow:
            _out(f"  {_fmt(r.due_at, tz)}  {names.get(r.cadence_id, (r.cadence_id,))[0]}")
    _out(f"记录 History ({len(events)}):")
    for e in events:
        who = f"{e.by_name or '-'}{'（主管）' if e.by_role == 'supervisor' else '（仓库）' if e.by_role == 'warehouse' else ''}"
        _out(f"  {_fmt(e.at, tz)}  {who}  {e.describe('zh')}")
    return 0


def _done(ctx, case, zh: str, en: str) -> int:
    if ctx.args.json:
        _json(case.to_dict())
    else:
        _out(f"{en} / {zh}  ({case.ref}: {case.names('zh')['status']}, 第 {case.step} 步)")
    return 0


def cmd_step(ctx) -> int:
    from ..core import aftersales as af

    case = af.advance_step(ctx.store, ctx.args.case, to=ctx.args.to, note=ctx.args.note or "")
    _done(ctx, case, "已进入下一步", "Step advanced")
    if not ctx.args.json:
        _steps(ctx, case)
    return 0


def cmd_set(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    case = af.update_case(ctx.store, a.case, mood=a.mood, severity=a.severity, wanted=a.wants, product=a.product,
                          order_no=a.order, category=a.category, feelings=a.feelings, note=a.note)
    return _done(ctx, case, "已更新", "Case updated")


def cmd_offer(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    result = af.make_offer(ctx.store, a.case, a.offer, a.amount, note=a.note or "")
    if a.json:
        _json(result.to_dict())
        return 0
    for zh, en in result.check.warnings:
        _out(f"! {en} / {zh}")
    if result.made:
        _out(f"Offer made: {result.check.offer} / 已提出方案：{af.OFFERS[result.check.offer][0]}"
             f"{(' ¥' + af.yuan(result.check.amount)) if result.check.amount is not None else ''}")
        return 0
    _out(f"Not offered: {result.check.reason('en')}; escalated to the supervisor (待主管). Copy this to them:")
    _out(f"未提出：{result.check.reason('zh')}，已升级主管。请把下面这段发给主管：")
    _out("")
    _out(result.summary or "")
    return 0


def cmd_escalate(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    result = af.escalate(ctx.store, a.case, reason=a.reason or "", offer=a.offer, amount=a.amount)
    if a.json:
        _json(result.to_dict())
        return 0
    _out("Escalated to the supervisor (待主管). Copy this to them / 已升级主管，请把下面这段发给主管：")
    _out("")
    _out(result.summary or "")
    return 0


def cmd_decide(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    case = af.decide(ctx.store, a.case, approve=a.approve, by=a.by, offer=a.offer, amount=a.amount, note=a.note or "")
    return _done(ctx, case, f"主管决定已记录：{case.manager_decision}", "Decision recorded")


def cmd_warehouse(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    case = af.warehouse(ctx.store, a.case, findings=a.findings, by=a.by or "")
    if a.findings is None:
        return _done(ctx, case, "等待仓库核实", "Waiting for the warehouse")
    return _done(ctx, case, "仓库反馈已记录", "Warehouse findings recorded")


def _callback_time(store, a) -> datetime:
    from ..core import reminders, zones

    now = store.clock.now()
    if a.within:
        return now + parse_duration(a.within)
    tz = _tz(store)
    text = a.at.strip()
    if len(text) <= 5 and ":" in text:  # "15:30" = today, the agent's time
        hhmm = zones.parse_hhmm(text)
        local = now.astimezone(tz)
        return datetime.combine(local.date(), hhmm, tzinfo=tz)
    return reminders.parse_local(text, tz)


def cmd_callback(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    when = _callback_time(ctx.store, a)
    rid = af.promise_callback(ctx.store, a.case, when, note=a.note or "")
    if a.json:
        _json({"reminder_id": rid, "due_at": when.isoformat()})
        return 0
    _out(f"Call-back reminder at {_fmt(when, _tz(ctx.store))} / 已约定回复时间")
    return 0


def cmd_followed(ctx) -> int:
    from ..core import aftersales as af

    case = af.followed_up(ctx.store, ctx.args.case, note=ctx.args.note or "")
    follow = [r for r in af.followups(ctx.store, case.id) if r.cadence_id != af.CALLBACK_CADENCE]
    nxt = f"; next {_fmt(follow[0].due_at, _tz(ctx.store))} / 下次跟进" if follow else ""
    if ctx.args.json:
        _json(case.to_dict())
        return 0
    _out(f"Followed up{nxt} / 已跟进")
    return 0


def cmd_resolve(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    case = af.resolve(ctx.store, a.case, a.outcome, amount=a.amount, note=a.note or "")
    return _done(ctx, case, "已解决", "Resolved")


def cmd_close(ctx) -> int:
    from ..core import aftersales as af

    case = af.close(ctx.store, ctx.args.case, note=ctx.args.note or "")
    return _done(ctx, case, "已关闭", "Closed")


def cmd_reopen(ctx) -> int:
    from ..core import aftersales as af

    case = af.reopen(ctx.store, ctx.args.case, note=ctx.args.note or "")
    return _done(ctx, case, "已重新打开", "Reopened")


def cmd_limits(ctx) -> int:
    from ..core import aftersales as af
    from ..core import caseteam

    a = ctx.args
    if a.set and a.delete:
        raise ValidationError("--set 和 --delete 只能用一个", "Use --set or --delete, not both", field="limits")
    if a.delete:
        af.delete_limit(ctx.store, a.delete, agent=a.agent or "", product=a.product or "", shop=a.shop)
        _out("Limit deleted / 已删除")
        return 0
    if a.set:
        limit = af.set_limit(ctx.store, a.set, agent=a.agent or "", product=a.product or "",
                             max_compensation=a.compensation, may_exchange=_yes_no(a.exchange),
                             may_return=_yes_no(a.returns), may_refund=_yes_no(a.refund), set_by=a.by,
                             shop=a.shop)
        if a.json:
            _json(limit.to_dict())
        else:
            _out(f"Limit set / 已设置：{af.SEVERITIES[limit.severity][0]} {limit.agent or '所有客服'} "
                 f"{limit.product or '所有商品'}：{limit.describe('zh')}")
        return 0
    rows = af.list_limits(ctx.store)
    team_shop = caseteam.limit_shops(ctx.store, a.shop)[0]  # team mode: the shop's limits, as its supervisor set them
    defaults = [af.get_limit(ctx.store, s, agent="", team_shop=team_shop) for s in af.SEVERITIES]
    if a.agent is not None or a.product is not None:  # what applies to this agent / product
        rows = [af.get_limit(ctx.store, s, agent=a.agent or "", product=a.product or "", team_shop=team_shop)
                for s in af.SEVERITIES]
    if a.json:
        _json({"limits": [r.to_dict() for r in rows],
               "defaults": [d.to_dict() for d in defaults if d.source == "default"]})
        return 0
    cliout.table([[af.SEVERITIES[r.severity][0], r.agent or "*", r.product or "*", af.yuan(r.max_compensation),
                   "是" if r.may_exchange else "否", "是" if r.may_return else "否", "是" if r.may_refund else "否",
                   r.source, r.set_by or "-"] for r in rows + [d for d in defaults if d.source == "default"
                                                               and a.agent is None and a.product is None]],
                 ["程度", "客服", "商品", "补偿上限", "换货", "退货", "退款", "来源", "设置人"],
                 [4, 16, 16, 10, 4, 4, 4, 14, 12])
    return 0


def cmd_categories(ctx) -> int:
    from ..core import aftersales as af

    a = ctx.args
    if a.add:
        cat = af.add_category(ctx.store, a.add, a.shop or "")
        if a.json:
            _json(cat.to_dict())
        else:
            _out(f"Category added / 已添加分类：{cat.name}")
        return 0
    cats = af.list_categories(ctx.store, a.shop)
    if a.json:
        _json([c.to_dict() for c in cats])
        return 0
    cliout.table([[str(c.id), c.code or "-", c.name, c.shop or "*"] for c in cats], ["ID", "代码", "分类", "店铺"],
                 [4, 14, 16, 16])
    return 0


def cmd_kpi(ctx) -> int:
    from ..core import aftersales as af

    store, a = ctx.store, ctx.args
    tz = _tz(store)
    since, until = af.period(a.period, store.clock.now(), tz)
    k = af.kpis(store, since, until)
    if a.json:
        _json(k.to_dict())
        return 0
    p = k.previous
    assert p is not None

    def hours(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} h"

    _out(f"售后 After-sales {_fmt(since, tz)} – {_fmt(until - timedelta(seconds=1), tz)}   (上期 previous)")
    _out(f"  未结 Open now:            {k.open_now}")
    _out(f"  新开 Opened:              {k.opened}   ({p.opened})")
    _out(f"  结案 Closed:              {k.closed}   ({p.closed})")
    _out(f"  平均结案时长 Avg to close: {hours(k.avg_hours_to_close)}   ({hours(p.avg_hours_to_close)})")
    _out(f"  赔偿金额 Compensation:     ¥{af.yuan(k.compensation_total)}   (¥{af.yuan(p.compensation_total)})")
    _out(f"  退款 Refunds:             {k.refunds}   ({p.refunds})")
    _out(f"  升级主管 Escalations:       {k.escalations}   ({p.escalations})")
    before = dict(p.refund_reasons)
    for name, n in k.refund_reasons:
        _out(f"    退款原因 {name}: {n}   ({before.get(name, 0)})")
    for name, n in p.refund_reasons:
        if name not in dict(k.refund_reasons):
            _out(f"    退款原因 {name}: 0   ({n})")
    return 0


# ---------------------------------------------------------------- parser

def register(sub, add, common) -> None:
    """Called by assistant/cli/main.py build_parser: adds `kefu aftersales`."""
    top = sub.add_parser("aftersales", aliases=["售后"], help="after-sales cases / 售后单", parents=[common])
    asub = top.add_subparsers(dest="subcommand", metavar="ACTION", required=True)

    def case_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("case", metavar="CASE", help="case number (12, #12) or uuid prefix / 售后单号")

    def details(p: argparse.ArgumentParser, required: bool) -> None:
        p.add_argument("--problem", required=required, help="the problem in the buyer's words / 问题（买家原话）")
        p.add_argument("--category", required=required,
                       help="quality, wrong_item, size, logistics, mismatch, changed_mind, other, or a shop's own / 分类")
        p.add_argument("--severity", required=required, help="light/轻度 medium/中度 severe/严重")
        p.add_argument("--wants", required=required,
                       help="refund/退款 return/退货 exchange/换货 compensation/补偿 explanation/解释")
        p.add_argument("--mood", default="calm" if required else None, help="calm/平静 upset/不满 angry/生气")
        p.add_argument("--order", help="order number (stored, shown masked) / 订单号")
        p.add_argument("--product", help="product / 商品")
        p.add_argument("--feelings", help="how the buyer feels / 买家感受")

    p = add(asub, "open", cmd_open, "open a case for a buyer (stops sales chases) / 开售后单", True)
    p.add_argument("nickname", metavar="NICK", help="buyer nickname (or id) / 买家昵称")
    p.add_argument("--platform", help="千牛/京东/拼多多/AliExpress/Amazon/其他 (for a new buyer)")
    p.add_argument("--shop", help="shop name / 店铺")
    details(p, True)
    p = add(asub, "list", cmd_list, "list cases (open by default; order numbers masked) / 售后单列表", True)
    p.add_argument("--status", default="open", help="open, closed, all, or one status (安抚中, manager ...)")
    p.add_argument("--buyer", metavar="NICK")
    p.add_argument("--platform")
    p.add_argument("--shop")
    p.add_argument("--limit", type=cliout.whole_number(1))
    p = add(asub, "show", cmd_show, "a case: steps, scripts, ladder, history, follow-ups / 查看售后单", True)
    case_arg(p)
    p.add_argument("--order", action="store_true", help="show the full order number / 显示完整订单号")
    p = add(asub, "step", cmd_step, "finish the current calming step (or jump --to N) / 完成当前步骤", True)
    case_arg(p)
    p.add_argument("--to", type=cliout.whole_number(1, 4))
    p.add_argument("--note", help="what you learned or did / 备注")
    p = add(asub, "set", cmd_set, "change mood, severity, wants, product, order, category / 修改", True)
    case_arg(p)
    details(p, False)
    p.add_argument("--note", help="a line in the history / 备注")
    p = add(asub, "offer", cmd_offer, "offer a rung of the ladder; above your limit it is escalated / 提出方案", True)
    case_arg(p)
    p.add_argument("offer", metavar="OFFER", help="compensate/补偿 exchange/换货 return/退货退款 refund/退款")
    p.add_argument("--amount", help="yuan, e.g. 10 or 12.50 / 金额（元）")
    p.add_argument("--note")
    p = add(asub, "escalate", cmd_escalate, "send to the supervisor (待主管) with a summary to copy / 升级主管", True)
    case_arg(p)
    p.add_argument("--reason")
    p.add_argument("--offer", help="what to ask for / 申请的方案")
    p.add_argument("--amount")
    p = add(asub, "decide", cmd_decide, "record the supervisor's decision / 记录主管决定", True)
    case_arg(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_true", dest="approve")
    g.add_argument("--decline", action="store_false", dest="approve")
    p.add_argument("--by", required=True, help="the supervisor's name / 主管姓名")
    p.add_argument("--offer", help="the offer approved (default: the one asked for)")
    p.add_argument("--amount")
    p.add_argument("--note")
    p = add(asub, "warehouse", cmd_warehouse, "checking with the warehouse, or record its findings / 仓库", True)
    case_arg(p)
    p.add_argument("--findings", help="the warehouse's answer / 仓库反馈")
    p.add_argument("--by", help="who reported it / 反馈人")
    p = add(asub, "callback", cmd_callback, "promise a call-back: a reminder at that time / 约定回复时间", True)
    case_arg(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--at", help='"15:30" (today) or "2026-11-11 15:30", your time')
    g.add_argument("--in", dest="within", help="30m, 2h, 1d")
    p.add_argument("--note")
    p = add(asub, "followed-up", cmd_followed, "you followed the case up: next follow-up scheduled / 已跟进", True)
    case_arg(p)
    p.add_argument("--note")
    p = add(asub, "resolve", cmd_resolve, "resolved: compensated, exchanged, returned, refunded, explained / 已解决",
            True)
    case_arg(p)
    p.add_argument("outcome", metavar="OUTCOME", help="compensated/已补偿 exchanged returned refunded explained")
    p.add_argument("--amount", help="yuan (compensated, refunded)")
    p.add_argument("--note")
    p = add(asub, "close", cmd_close, "close (a resolved case, or one the buyer withdrew) / 关闭", True)
    case_arg(p)
    p.add_argument("--note")
    p = add(asub, "reopen", cmd_reopen, "reopen a resolved or closed case / 重新打开", True)
    case_arg(p)
    p.add_argument("--note")
    p = add(asub, "limits", cmd_limits, "retention limits per severity (and agent, product) / 挽单权限", True)
    p.add_argument("--set", metavar="SEVERITY", help="light/轻度 medium/中度 severe/严重")
    p.add_argument("--delete", metavar="SEVERITY")
    p.add_argument("--agent", help="an agent's name or team login ('' = every agent) / 客服")
    p.add_argument("--product", help="a product ('' = any) / 商品")
    p.add_argument("--compensation", help="the most an agent may compensate alone, yuan / 补偿上限（元）")
    p.add_argument("--exchange", help="yes/no: may offer an exchange alone")
    p.add_argument("--return", dest="returns", help="yes/no: may accept a return alone")
    p.add_argument("--refund", help="yes/no: may refund alone")
    p.add_argument("--by", help="who sets it (default: you) / 设置人")
    p.add_argument("--shop", help="team mode: the shop the limit is for (default: every shop you serve) / 店铺")
    p = add(asub, "categories", cmd_categories, "categories; --add a shop's own / 售后分类", True)
    p.add_argument("--add", metavar="NAME")
    p.add_argument("--shop")
    p = add(asub, "kpi", cmd_kpi, "cases, time to close, compensation, refund reasons vs the last period / 售后统计",
            True)
    p.add_argument("--period", default="week", choices=("day", "week", "month"))
