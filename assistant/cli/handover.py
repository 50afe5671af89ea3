"""`kefu shift ...`, `kefu log ...`, `kefu handover ...`, `kefu kpi`, `kefu calc ...`: shifts, the work
log, the handover files, KPIs and the two calculators.

assistant/cli/main.py calls register(sub, add, common) from build_parser. Phone and order numbers are
masked in the exported files unless --include-phones is given.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path

from ..errors import ValidationError
from . import out as cliout

_out = cliout.out
_json = cliout.json_out


def _agent_tz(store) -> tzinfo:
    from ..core import reminders

    return reminders.get_config(store).agent_tz


def _fmt(when: datetime | None, tz: tzinfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return when.astimezone(tz).strftime(pattern) if when else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


# ---------------------------------------------------------------- shift

def _print_shift(shift, tz: tzinfo, now: datetime) -> None:
    _out(f"班次 Shift #{shift.id}  客服 Agent: {shift.agent or '-'}")
    _out(f"  开始 Started: {_fmt(shift.started_at, tz)}  ({shift.started_how})")
    if shift.ended_at:
        _out(f"  结束 Ended:   {_fmt(shift.ended_at, tz)}  ({shift.ended_how})")
    else:
        hours = (now - shift.started_at).total_seconds() / 3600
        _out(f"  进行中 Open for {hours:.1f} h")


def cmd_shift_start(ctx) -> int:
    from ..core import shifts

    shift, started = shifts.start_shift(ctx.store)
    if ctx.args.json:
        _json({**shift.to_dict(), "started": started})
        return 0
    _out("已上班 Shift started" if started else "班次已在进行中 A shift is already open")
    _print_shift(shift, _agent_tz(ctx.store), ctx.store.clock.now())
    return 0


def cmd_shift_end(ctx) -> int:
    from ..core import shifts

    shift = shifts.end_shift(ctx.store, how="explicit")
    if ctx.args.json:
        _json(shift.to_dict())
        return 0
    _out("已交班 Shift ended (export the handover with `kefu handover export`)")
    _print_shift(shift, _agent_tz(ctx.store), ctx.store.clock.now())
    return 0


def cmd_shift_status(ctx) -> int:
    from ..core import kpi, shifts

    store = ctx.store
    now = store.clock.now()
    shift = shifts.current_shift(store) or shifts.last_shift(store)
    if shift is None:
        if ctx.args.json:
            _json(None)
            return 0
        _out("还没有班次记录 No shift yet (`kefu shift start`, or it starts on first use)")
        return 0
    tz = _agent_tz(store)
    k = kpi.for_shift(store, shift, now, tz)
    if ctx.args.json:
        _json({**shift.to_dict(), "kpis": k.to_dict()})
        return 0
    _print_shift(shift, tz, now)
    _out(f"  粘贴 pastes {k.pastes} · 标星 starred {k.starred} · 催单 chases {k.chases} · 付款 paid {k.paid} · "
         f"流失 lost {k.lost}")
    return 0


# ---------------------------------------------------------------- log

def cmd_log_add(ctx) -> int:
    from ..core import shifts

    text = " ".join(ctx.args.text)
    entry = shifts.add_entry(ctx.store, ctx.args.kind, text)
    if ctx.args.json:
        _json(entry.to_dict())
        return 0
    _out(f"已记录 Logged #{entry.id} [{entry.kind_name}]")
    return 0


def cmd_log_list(ctx) -> int:
    from ..core import shifts, zones

    store = ctx.store
    a = ctx.args
    now = store.clock.now()
    tz = _agent_tz(store)
    if a.day:
        since, until = zones.day_window(_parse_day(a.day), tz)
    else:
        shift = shifts.current_shift(store) or shifts.last_shift(store)
        if shift is None:
            since, until = zones.day_window(now.astimezone(tz).date(), tz)
        else:
            since, until = shift.started_at, shift.until(now)
    if a.mine:
        items = [shifts.LogItem(e.at, "agent", e.kind, *shifts.ENTRY_KINDS[e.kind], e.text, entry_id=e.id)
                 for e in reversed(shifts.entries(store, since, until))]
    else:
        items = shifts.activity(store, since, until, limit=a.limit)
    if a.previous:
        prev = shifts.last_imported_entries(store)
        items = [shifts.LogItem(e.at, "handover", e.kind, *shifts.ENTRY_KINDS[e.kind], e.text, e.agent, entry_id=e.id)
                 for e in reversed(prev)]
    if a.json:
        _json([i.to_dict() for i in items])
        return 0
    cliout.table([[_fmt(i.at, tz, "%m-%d %H:%M"), i.label, i.subject, i.detail] for i in items],
                  ["时间", "类型", "内容", "详情"], [12, 10, 50, 30])
    _out(f"{len(items)} entries / 共 {len(items)} 条")
    return 0


# ---------------------------------------------------------------- handover

def cmd_handover_export(ctx) -> int:
    from ..core import handover

    a = ctx.args
    formats = [f.strip() for f in a.formats.split(",") if f.strip()]
    folder = Path(a.dir) if a.dir else Path.cwd()
    result = handover.export_handover(ctx.store, folder, formats=formats, include_phones=a.include_phones,
                                      end_shift=a.end_shift)
    if a.json:
        _json({"files": {k: str(v) for k, v in result.files.items()}, "counts": result.counts,
               "seconds": round(result.seconds, 3), "shift": result.shift.to_dict() if result.shift else None})
        return 0
    for fmt, path in result.files.items():
        _out(f"{fmt:5} {path}")
    c = result.counts
    _out(f"买家 {c['buyers']} 位（标星未结 {c['starred_open']}，售后 {c['after_sales']}），待催 {c['pending_reminders']} 条，"
         f"日志 {c['log']} 条 / {c['buyers']} buyers, {c['pending_reminders']} pending reminders "
         f"({result.seconds:.2f} s)")
    if not a.include_phones:
        _out("电话和订单号已打码（--include-phones 可导出完整号码） / phone and order numbers are masked")
    if a.end_shift and result.shift is not None and not result.shift.open:
        _out("已交班 Shift ended")
    return 0


def cmd_handover_import(ctx) -> int:
    from ..core import handover

    a = ctx.args
    plan = handover.import_handover(ctx.store, a.file, dry_run=a.dry_run)
    if a.json:
        _json(plan.to_dict())
        return 0
    tz = _agent_tz(ctx.store)
    from ..core.clock import from_db

    _out(f"来自 From: {plan.source_agent or '-'}  导出于 exported {_fmt(from_db(plan.exported_at), tz)}"
         f"{'  （含完整电话 phones included）' if plan.phones_included else ''}")
    changed = [i for i in plan.items if i.changed]
    if changed:
        labels = {"add": "新增 add", "update": "更新 update"}
        rows = []
        for i in changed[: a.limit]:
            what = []
            if i.fields and i.fields != ["*"]:
                what.append(",".join(i.fields))
            if i.notes_merged:
                what.append("备注合并 notes merged")
            if i.chases_added:
                what.append(f"+{i.chases_added} 催单")
            if i.reminders_added:
                what.append(f"+{i.reminders_added} 提醒")
            if i.reminders_cancelled:
                what.append(f"-{i.reminders_cancelled} 提醒")
            if i.marks_added or i.marks_removed:
                what.append(" ".join([f"+{m}" for m in i.marks_added] + [f"-{m}" for m in i.marks_removed]))
            rows.append([labels[i.action], i.nickname, i.shop or "-", "; ".join(what)])
        cliout.table(rows, ["操作", "买家", "店铺", "内容"], [10, 16, 14, 60])
        if len(changed) > a.limit:
            _out(f"… {len(changed) - a.limit} more / 另有 {len(changed) - a.limit} 位")
    for zh, en in plan.warnings:
        _out(f"! {zh} / {en}")
    _out(plan.summary("zh"))
    _out(plan.summary("en"))
    if a.dry_run and plan.has_changes:
        _out("（预览，未写入 dry run: nothing written）")
    return 0


# ---------------------------------------------------------------- kpi and calculators

def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationError(f"日期“{text}”无效，应写成 2026-11-11", f"Invalid day '{text}'; write 2026-11-11",
                              field="day") from None


def cmd_kpi(ctx) -> int:
    from ..core import kpi, shifts

    store = ctx.store
    tz = _agent_tz(store)
    now = store.clock.now()
    shift = None
    if ctx.args.day:
        k = kpi.for_day(store, _parse_day(ctx.args.day), tz)
        title = f"日 Day {ctx.args.day}"
    else:
        shift = shifts.current_shift(store) or shifts.last_shift(store)
        if shift is not None:
            k = kpi.for_shift(store, shift, now, tz)
            title = f"班次 Shift #{shift.id} {shift.agent or ''}".rstrip()
        else:
            k = kpi.for_day(store, now.astimezone(tz).date(), tz)
            title = f"今日 Today {now.astimezone(tz).date()}"
    if ctx.args.json:
        _json({"title": title, "shift": shift.to_dict() if shift else None, **k.to_dict()})
        return 0
    _out(f"{title}: {_fmt(k.since, tz)} — {_fmt(k.until, tz)}")
    conv = "-" if k.conversion is None else f"{k.conversion * 100:.1f}%"
    rows = [
        ["粘贴回复 replies pasted", str(k.pastes)], ["标星 buyers starred", str(k.starred)],
        ["催单 chases sent", str(k.chases)],
        ["催单后付款 paid after a chase", f"{k.paid_after_chase} / {k.chased_buyers} ({conv})"],
        ["已付款 paid", str(k.paid)], ["流失 lost", str(k.lost)],
        ["提醒响应 reminder delay (avg / median)",
         f"{_duration(k.avg_delay_seconds)} / {_duration(k.median_delay_seconds)} ({k.reminders_acted})"],
        ["错过提醒 reminders missed", str(k.missed)], ["逾期未处理 overdue, not acted", str(k.overdue_open)],
    ]
    cliout.table(rows, ["指标 KPI", "值 value"], [40, 30])
    _out("催单角度 chases by angle: " + "  ".join(f"{kpi.angle_label(a)} {n}" for a, n in k.chases_by_angle.items()))
    if k.top_replies:
        _out("常用回复 top replies:")
        for i, t in enumerate(k.top_replies, 1):
            _out(f"  {i:2}. {t.title}  ×{t.count}")
    return 0


def cmd_calc_sales(ctx) -> int:
    from ..core import kpi

    a = ctx.args
    est = kpi.sales(a.inquiries, kpi.parse_rate(a.conversion), a.aov)
    if a.json:
        _json(est.to_dict())
        return 0
    _out(f"销售额 Sales = {est.inquiries:g} × {est.conversion * 100:g}% × {est.average_order_value:g} "
         f"= {est.sales:,.2f}")
    _out(f"订单数 Orders ≈ {est.orders:,.1f}")
    return 0


def cmd_calc_staffing(ctx) -> int:
    from ..core import kpi

    a = ctx.args
    plan = kpi.staffing(a.daily_inquiries, a.shop_type, a.shops, multiplier=a.multiplier, agent_capacity=a.capacity)
    if a.json:
        _json(plan.to_dict())
        return 0
    zh, en, _ = kpi.SHOP_TYPES[plan.shop_type]
    _out(f"{zh} {en} × {plan.shops}: 大促询单约为平日 {plan.multiplier:g} 倍 / about {plan.multiplier:g}× a normal day")
    _out(f"大促日询单 Promotion-day inquiries: {plan.promo_inquiries_per_shop:,.0f} / 店 shop, "
         f"共 total {plan.promo_inquiries:,.0f}")
    _out(f"平日客服 Normal staffing: {plan.normal_agents}    大促客服 Promotion staffing: {plan.promo_agents}")
    for zh_note, en_note in plan.notes:
        _out(f"  - {zh_note} / {en_note}")
    return 0


# ---------------------------------------------------------------- registration

def register(sub, add, common) -> None:
    """Called by assistant/cli.py build_parser: adds shift, log, handover, kpi and calc."""
    shift_p = sub.add_parser("shift", help="shift start/end/status / 班次", parents=[common])
    ssub = shift_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    add(ssub, "start", cmd_shift_start, "start a shift (also starts on first use of the day) / 上班", True)
    add(ssub, "end", cmd_shift_end, "end the shift (交班) / 下班", True)
    add(ssub, "status", cmd_shift_status, "the current or last shift / 当前班次", True)

    log_p = sub.add_parser("log", help="work log: problems, buyer requests, notes / 工作日志", parents=[common])
    lsub = log_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    p = add(lsub, "add", cmd_log_add, "add an entry to the work log / 写日志", True)
    p.add_argument("--kind", default="note", help="今日问题 (problem) | 顾客需求 (request) | note (备注)")
    p.add_argument("text", nargs="+", metavar="TEXT")
    p = add(lsub, "list", cmd_log_list, "the shift's log: what happened and your entries / 查看日志", True)
    p.add_argument("--day", metavar="YYYY-MM-DD", help="a whole day instead of the shift")
    p.add_argument("--mine", action="store_true", help="only your own entries")
    p.add_argument("--previous", action="store_true", help="the entries of the last handover imported / 上一班留言")
    p.add_argument("--limit", type=cliout.whole_number(1), default=200)

    h_p = sub.add_parser("handover", help="shift handover files / 交接班", parents=[common])
    hsub = h_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    p = add(hsub, "export", cmd_handover_export, "write the handover report (HTML, XLSX, JSON) / 导出交接", True)
    p.add_argument("--dir", metavar="DIR", help="folder to write into (default: the current folder)")
    p.add_argument("--include-phones", action="store_true", help="full phone and order numbers (masked by default)")
    p.add_argument("--formats", default="html,xlsx,json", help="comma-separated: html,xlsx,json")
    p.add_argument("--end-shift", action="store_true", help="also end the shift (交班)")
    p = add(hsub, "import", cmd_handover_import, "import the previous shift's JSON / 导入交接", True)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing / 预览")
    p.add_argument("--limit", type=cliout.whole_number(1), default=50, help="buyers listed in the preview")

    p = add(sub, "kpi", cmd_kpi, "KPIs of the shift or a day / 数据", True)
    p.add_argument("--day", metavar="YYYY-MM-DD")

    calc_p = sub.add_parser("calc", help="sales and promotion staffing calculators / 计算器", parents=[common])
    csub = calc_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    p = add(csub, "sales", cmd_calc_sales, "sales = inquiries × conversion × average order value / 销售额", True)
    p.add_argument("--inquiries", type=float, required=True, help="询单人数")
    p.add_argument("--conversion", required=True, help="转化率: 0.12 or 12%%")
    p.add_argument("--aov", type=float, required=True, help="客单价 average order value")
    p = add(csub, "staffing", cmd_calc_staffing, "promotion staffing from daily inquiries / 大促排班", True)
    p.add_argument("--daily-inquiries", type=float, required=True, help="a normal day's inquiries per shop / 日均询单")
    p.add_argument("--shop-type", required=True, help="ka | established | ordinary")
    p.add_argument("--shops", type=cliout.whole_number(1), default=1)
    p.add_argument("--multiplier", type=float, help="override the promotion multiplier")
    p.add_argument("--capacity", type=float, help="inquiries one agent handles in a promotion day (optional)")
