"""The handover report as an XLSX workbook: one sheet per section (fileio.xlsx writes it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import aftersales, kpi, reminders, shifts
from ..fileio.xlsx import XlsxWriter
from .document import _REMINDER_KINDS, Sections, _angle, _local, _platform, _state, sections


def render_xlsx(doc: dict, path: Path | str, cadence_names: dict[str, str] | None = None,
                tick: Callable[[int], None] | None = None, sec: Sections | None = None) -> None:
    """One sheet per section; frozen header row, auto filter, column widths from the content, times
    as real Excel dates in the agent's zone; formula-like text quoted. Written by fileio's XlsxWriter
    (see there why not openpyxl); openpyxl reads it back in the tests."""
    sec = sec or sections(doc, cadence_names)
    tz = sec.tz
    cache: dict[str | None, datetime | None] = {}

    def when(text: str | None) -> datetime | None:
        if text not in cache:
            local = _local(text, tz)
            cache[text] = local.replace(tzinfo=None, microsecond=0) if local else None
        return cache[text]

    k = doc["kpis"]
    shift = doc.get("shift") or {}
    avg, median = k["avg_delay_seconds"], k["median_delay_seconds"]
    summary: list[tuple[str, Any, str]] = [
        ("客服", doc.get("agent") or "", "text"),
        ("班次开始", when(shift.get("started_at") or doc["window"]["since"]), "date"),
        ("班次结束", when(shift.get("ended_at")), "date"),
        ("生成时间", when(doc["generated_at"]), "date"),
        ("时区", doc.get("timezone") or "", "text"),
        ("粘贴回复（次）", k["pastes"], "int"), ("标星买家（位）", k["starred"], "int"),
        ("催单（次）", k["chases"], "int"), ("被催单买家（位）", k["chased_buyers"], "int"),
        ("催单后付款（位）", k["paid_after_chase"], "int"), ("催单转化率", k["conversion"], "percent"),
        ("已付款（位）", k["paid"], "int"), ("流失（位）", k["lost"], "int"),
        ("已处理提醒（条）", k["reminders_acted"], "int"),
        ("提醒平均响应（分钟）", None if avg is None else round(avg / 60, 1), "num"),
        ("提醒响应中位数（分钟）", None if median is None else round(median / 60, 1), "num"),
        ("错过的提醒（条）", k["missed"], "int"), ("逾期未处理（条）", k["overdue_open"], "int"),
        ("未结标星买家（位）", len(sec.starred), "int"), ("待催单（条）", len(sec.pending), "int"),
        ("售后未结（位）", len(sec.after_sales), "int"),
    ]
    ak = doc.get("aftersales_kpis") or {}
    with_cases = bool(sec.cases or ak.get("opened") or ak.get("closed"))
    if with_cases:  # after-sales, counted for the shift (core/aftersales.kpis)
        summary += [
            ("售后单未结（单）", ak.get("open_now", 0), "int"), ("售后新开（单）", ak.get("opened", 0), "int"),
            ("售后结案（单）", ak.get("closed", 0), "int"),
            ("平均结案时长（小时）", ak.get("avg_hours_to_close"), "num"),
            ("赔偿金额（元）", (ak.get("compensation_total") or 0) / 100, "num"),
            ("退款（单）", ak.get("refunds", 0), "int"), ("升级主管（次）", ak.get("escalations", 0), "int"),
            ("退款原因", "、".join(f"{r['category']} {r['count']}" for r in ak.get("refund_reasons", [])), "text"),
        ]
    xw = XlsxWriter(tick, title="交接班报告")
    xw.sheet("概况", [("项目", "text"), ("数值", "mixed")], ([label, (value, kind)] for label, value, kind in summary),
             widths=[26, 22])
    xw.sheet("标星买家", [("买家", "text"), ("平台", "text"), ("店铺", "text"), ("状态", "text"), ("有疑问", "text"),
                      ("标记", "text"), ("电话", "text"), ("备注", "wrap"), ("催单次数", "int"), ("上次催单", "date"),
                      ("上次催单角度", "text"), ("上次催单话术", "text"), ("下次提醒", "date"), ("标星人", "text"),
                      ("标星时间", "date"), ("更新时间", "date")],
             ([x["buyer"]["nickname"], _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _state(x["buyer"]["state"]), "是" if x["buyer"]["open_questions"] else "", "、".join(x["marks"]),
               x["buyer"]["phone"] or x["buyer"]["phone_masked"] or "", x["buyer"]["notes"], len(x["buyer"]["chases"]),
               when(x["last"]["sent_at"]) if x["last"] else None, _angle(x["last"]["angle"]) if x["last"] else "",
               (x["last"]["reply_title"] or "") if x["last"] else "", when(x["next"]["due_at"]) if x["next"] else None,
               x["buyer"]["starred_by"] or "", when(x["buyer"]["starred_at"]), when(x["buyer"]["updated_at"])]
              for x in sec.starred))
    xw.sheet("待催单", [("到期时间", "date"), ("已逾期", "text"), ("买家", "text"), ("平台", "text"), ("店铺", "text"),
                     ("类型", "text"), ("活动", "text"), ("节奏", "text"), ("步骤", "int"), ("标记", "text"),
                     ("上次催单", "date")],
             ([when(x["reminder"]["due_at"]), "是" if x["overdue"] else "", x["buyer"]["nickname"],
               _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _REMINDER_KINDS.get(x["reminder"]["kind"], x["reminder"]["kind"]),
               (x["reminder"].get("promotion") or {}).get("name", ""), x["cadence"], x["reminder"]["step"] + 1,
               "、".join(m["name"] for m in x["buyer"]["marks"]), when(x["last"]["sent_at"]) if x["last"] else None]
              for x in sec.pending))
    xw.sheet("售后未结", [("买家", "text"), ("平台", "text"), ("店铺", "text"), ("状态", "text"), ("标记", "text"),
                      ("电话", "text"), ("备注", "wrap"), ("更新时间", "date")],
             ([x["buyer"]["nickname"], _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _state(x["buyer"]["state"]), "、".join(x["marks"]), x["buyer"]["phone"] or x["buyer"]["phone_masked"] or "",
               x["buyer"]["notes"], when(x["buyer"]["updated_at"])] for x in sec.after_sales))
    if with_cases:
        xw.sheet("售后单", [("买家", "text"), ("平台", "text"), ("店铺", "text"), ("状态", "text"), ("步骤", "int"),
                         ("程度", "text"), ("情绪", "text"), ("诉求", "text"), ("分类", "text"), ("订单", "text"),
                         ("商品", "text"), ("问题（买家原话）", "wrap"), ("仓库反馈", "wrap"), ("主管决定", "wrap"),
                         ("记录", "wrap"), ("下次跟进", "date"), ("开单时间", "date")],
                 ([(x["buyer"] or {}).get("nickname", ""), _platform((x["buyer"] or {}).get("platform", "")),
                   (x["buyer"] or {}).get("shop", ""), aftersales.STATUSES[x["case"]["status"]][0], x["case"]["step"],
                   aftersales.SEVERITIES[x["case"]["severity"]][0], aftersales.MOODS[x["case"]["mood"]][0],
                   aftersales.WANTED[x["case"]["wanted"]][0], x["case"]["category"]["name"], x["case"]["order_no"],
                   x["case"]["product"], x["case"]["problem"], x["case"]["warehouse_findings"],
                   x["case"]["manager_decision"],
                   "\n".join(f"{aftersales.EVENT_NAMES.get(e['kind'], (e['kind'],))[0]} "
                             f"{aftersales.detail_text(e['detail'])}".strip()
                             for e in x["case"]["events"]),
                   when(x["next"]["due_at"]) if x["next"] else None, when(x["case"]["opened_at"])] for x in sec.cases))
    by_buyer = {b["uuid"]: b for b in doc["buyers"]}
    calls = [(p, c) for p in doc.get("promotions", []) for c in p.get("calls", [])]
    if calls:  # the promotion phone list as this shift worked it, every call
        xw.sheet("大促电话", [("活动", "text"), ("买家", "text"), ("结果", "text"), ("时间", "date"), ("再打", "date")],
                 ([p["name"], by_buyer.get(c["buyer"], {}).get("nickname", ""),
                   reminders.CALL_OUTCOMES.get(c["outcome"], (c["outcome"],))[0], when(c["at"]),
                   when(c["retry_at"]) if c["outcome"] in ("no_answer", "rescheduled") else None] for p, c in calls))
    if doc.get("orders"):  # unpaid orders: open, or paid/closed during the shift
        xw.sheet("未付款订单", [("买家", "text"), ("订单号", "text"), ("金额", "text"), ("下单时间", "date"),
                           ("关闭时间", "date"), ("状态", "text"), ("商品", "text")],
                 ([by_buyer.get(o["buyer"], {}).get("nickname", ""), o["order_no"],
                   f'{o["amount"] // 100}.{o["amount"] % 100:02d}' if o.get("amount") is not None else "",
                   when(o["ordered_at"]), when(o["deadline_at"]),
                   {"unpaid": "未付款", "paid": "本班已付款", "closed": "本班已关闭"}.get(o["status"], o["status"]),
                   o.get("item", "")] for o in doc["orders"]))
    xw.sheet("工作日志", [("时间", "date"), ("类型", "text"), ("内容", "wrap"), ("客服", "text")],
             ([when(e["at"]), shifts.ENTRY_KINDS.get(e["kind"], (e["kind"],))[0], e["text"], e["agent"]]
              for e in sec.log))
    xw.sheet("常用回复", [("排名", "int"), ("回复", "text"), ("次数", "int")],
             ([i, t["title"], t["count"]] for i, t in enumerate(k["top_replies"], 1)))
    xw.sheet("催单角度", [("角度", "text"), ("次数", "int")],
             ([kpi.angle_label(a), n] for a, n in k["chases_by_angle"].items()))
    xw.sheet("每小时粘贴", [("时段", "date"), ("次数", "int")],
             ([datetime.fromisoformat(h["hour"]).astimezone(tz).replace(tzinfo=None), h["count"]]
              for h in k["pastes_by_hour"]))
    xw.save(path)
