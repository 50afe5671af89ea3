"""The handover report as one self-contained HTML page (inline CSS and SVG charts, A4 print layout)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from ...paths import resource_path
from .. import aftersales, kpi, reminders, shifts
from ..cadence import ANGLES
from .common import FORMAT, VERSION
from .document import _REMINDER_KINDS, Sections, _angle, _fmt, _platform, _state, sections

_HTML_TABLE = {**{c: None for c in range(32) if chr(c) not in "\t\n\r"}, 0x7F: None, ord("&"): "&amp;",
               ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#x27;"}


def _e(value: Any) -> str:
    """HTML-escaped text (quotes too), control characters dropped: one C-level pass."""
    return ("" if value is None else str(value)).translate(_HTML_TABLE)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.1f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def _svg_angles(counts: dict[str, int]) -> str:
    keys = [*ANGLES, "none"] if counts.get("none") else list(ANGLES)
    width, row, left, right = 520, 26, 96, 44
    height = row * len(keys) + 12
    top = max(1, max((counts.get(k, 0) for k in keys), default=0))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="催单角度分布" class="chart chart-angles">']
    parts.append(f'<line class="axis" x1="{left}" y1="4" x2="{left}" y2="{height - 6}"/>')
    for i, key in enumerate(keys):
        n = counts.get(key, 0)
        y = 6 + i * row
        w = (width - left - right) * n / top
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_e(kpi.angle_label(key))}</text>')
        parts.append(f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="2">'
                     f'<title>{_e(kpi.angle_label(key))}: {n}</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}" class="muted">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_hours(hours: list[dict], tz: tzinfo) -> str:
    width, height, left, bottom, top_pad = 520, 190, 34, 26, 14
    n = max(1, len(hours))
    slot = min(44.0, (width - left - 8) / n)  # a short shift keeps slim bars, left-aligned
    peak = max([h["count"] for h in hours] + [1])
    scale = (height - bottom - top_pad) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="每小时粘贴次数" class="chart chart-hours">']
    base = height - bottom
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 4}" y2="{base}"/>')
    for tick in sorted({0, peak // 2, peak}):
        y = base - tick * scale
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="muted">{tick}</text>')
    label_every = max(1, math.ceil(n / 16))
    for i, h in enumerate(hours):
        x = left + i * slot
        hgt = h["count"] * scale
        when = datetime.fromisoformat(h["hour"]).astimezone(tz)
        label = when.strftime("%H") if not when.minute else when.strftime("%H:%M")
        parts.append(f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{base - hgt:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{hgt:.1f}"><title>{_e(when.strftime("%m-%d %H:%M"))}: {h["count"]}</title></rect>')
        if h["count"]:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{base - hgt - 3:.1f}" text-anchor="middle" '
                         f'class="muted">{h["count"]}</text>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{base + 15}" text-anchor="middle">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _marks_html(names: Sequence[str]) -> str:
    return "".join(f'<span class="mark">{_e(n)}</span>' for n in names)


def _table(section_id: str, title: str, headers: Sequence[tuple[str, str]], rows: Iterable[str], count: int,
           empty: str) -> str:
    head = "".join(f'<th class="{cls}">{_e(h)}</th>' if cls else f"<th>{_e(h)}</th>" for h, cls in headers)
    body = "".join(rows)
    out = [f'<section id="{section_id}"><h2>{_e(title)}<span class="count">{count}</span></h2>']
    if count:
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    else:
        out.append(f'<p class="empty">{_e(empty)}</p>')
    out.append("</section>")
    return "".join(out)


def render_html(doc: dict, cadence_names: dict[str, str] | None = None, sec: Sections | None = None) -> str:
    """The self-contained report: inline CSS and SVG, no script, no external resource."""
    sec = sec or sections(doc, cadence_names)
    tz = sec.tz
    k = doc["kpis"]
    memo: dict[str, str] = {}

    def t(text: str | None) -> str:
        """A stored time as 'MM-DD HH:MM' local, memoised (due times repeat across rows)."""
        if not text:
            return ""
        found = memo.get(text)
        if found is None:
            found = memo[text] = _fmt(text, tz)
        return found

    css = resource_path("handover", "report.css").read_text(encoding="utf-8")
    shift = doc.get("shift") or {}
    agent = doc.get("agent") or "（未设置客服昵称）"
    started = _fmt(shift.get("started_at") or doc["window"]["since"], tz, "%Y-%m-%d %H:%M")
    ended = _fmt(shift["ended_at"], tz, "%Y-%m-%d %H:%M") if shift.get("ended_at") else "进行中"
    conv = "—" if k["conversion"] is None else f"{k['conversion'] * 100:.1f}%"
    out: list[str] = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>交接班报告 · {_e(agent)} · {_e(started)}</title>",
        '<meta name="generator" content="kefu-assistant">',
        f"<style>{css}</style></head><body>",
        '<header class="report" id="summary"><h1>交接班报告 <small>Shift handover</small></h1>',
        f'<p class="meta">客服 <b>{_e(agent)}</b> · 班次 <b>{_e(started)}</b> — <b>{_e(ended)}</b> · '
        f'生成于 {_e(_fmt(doc["generated_at"], tz, "%Y-%m-%d %H:%M"))}（{_e(doc.get("timezone"))}）</p>',
    ]
    if doc.get("phones_included"):
        out.append('<p class="notice">本报告包含完整的电话号码和订单号，请妥善保管，勿外传。</p>')
    out.append("</header>")
    cards = [
        ("粘贴回复", str(k["pastes"]), "次"), ("标星买家", str(k["starred"]), "位"), ("催单", str(k["chases"]), "次"),
        ("催单后付款", str(k["paid_after_chase"]), f"/ {k['chased_buyers']} 位（转化 {conv}）"),
        ("已付款", str(k["paid"]), "位"), ("流失", str(k["lost"]), "位"),
        ("提醒平均响应", _duration(k["avg_delay_seconds"]), f"中位 {_duration(k['median_delay_seconds'])}"),
        ("错过的提醒", str(k["missed"]), f"逾期未处理 {k['overdue_open']}"),
    ]
    out.append('<section id="kpis"><h2>本班数据</h2><dl class="kpis">')
    for label, value, unit in cards:
        out.append(f'<div class="kpi"><dt>{_e(label)}</dt><dd>{_e(value)} <small>{_e(unit)}</small></dd></div>')
    out.append("</dl></section>")
    out.append('<section id="charts" class="charts">')
    out.append(f'<figure id="chart-angles"><figcaption>催单角度</figcaption>{_svg_angles(k["chases_by_angle"])}</figure>')
    out.append(f'<figure id="chart-hours"><figcaption>每小时粘贴回复</figcaption>{_svg_hours(k["pastes_by_hour"], tz)}'
               "</figure></section>")

    def starred_row(x: dict) -> str:
        b, last, nxt = x["buyer"], x["last"], x["next"]
        last_text = f"{t(last['sent_at'])} {_angle(last['angle'])} {last['reply_title'] or ''}".strip() if last else ""
        cls = ' class="state-paused"' if b["state"] == "paused" else ""
        return (f"<tr{cls}><td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))}</td><td>{_e(b['shop'])}</td>"
                f"<td>{_e(_state(b['state']))}{' · 有疑问' if b['open_questions'] else ''}</td>"
                f"<td>{_marks_html(x['marks'])}</td><td>{_e(b['phone'] or b['phone_masked'] or '')}</td>"
                f'<td class="notes">{_e(b["notes"])}</td><td class="num">{len(b["chases"])}</td>'
                f'<td>{_e(last_text)}</td><td class="time">{_e(t(nxt["due_at"]) if nxt else "")}</td></tr>')

    out.append(_table("starred", "标星未结买家", [("买家", ""), ("平台", ""), ("店铺", ""), ("状态", ""), ("标记", ""),
                                                ("电话", ""), ("备注", ""), ("催单", "num"), ("上次催单", ""),
                                                ("下次提醒", "")],
                      (starred_row(x) for x in sec.starred), len(sec.starred), "没有未结的标星买家"))

    def pending_row(x: dict) -> str:
        b, r, last = x["buyer"], x["reminder"], x["last"]
        due = _e(t(r["due_at"]))
        due_cell = f'<td class="time overdue">{due}</td>' if x["overdue"] else f'<td class="time">{due}</td>'
        promo = f" · {r['promotion']['name']}" if r.get("promotion") else ""
        return (f"<tr>{due_cell}<td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))} {_e(b['shop'])}</td>"
                f"<td>{_e(_REMINDER_KINDS.get(r['kind'], r['kind']) + promo)}</td><td>{_e(x['cadence'])}</td>"
                f'<td class="num">{r["step"] + 1}</td><td>{_marks_html([m["name"] for m in b["marks"]])}</td>'
                f"<td>{_e(t(last['sent_at']) if last else '')}</td></tr>")

    out.append(_table("pending", "待催单（按到期时间）", [("到期", ""), ("买家", ""), ("平台 / 店铺", ""), ("类型", ""),
                                                    ("节奏", ""), ("步骤", "num"), ("标记", ""), ("上次催单", "")],
                      (pending_row(x) for x in sec.pending), len(sec.pending), "没有待处理的催单提醒"))

    def after_row(x: dict) -> str:
        b = x["buyer"]
        return (f"<tr><td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))} {_e(b['shop'])}</td>"
                f"<td>{_e(_state(b['state']))}</td><td>{_marks_html(x['marks'])}</td>"
                f"<td>{_e(b['phone'] or b['phone_masked'] or '')}</td><td class=\"notes\">{_e(b['notes'])}</td>"
                f'<td class="time">{_e(t(b["updated_at"]))}</td></tr>')

    out.append(_table("after-sales", "售后未结", [("买家", ""), ("平台 / 店铺", ""), ("状态", ""), ("标记", ""),
                                              ("电话", ""), ("备注", ""), ("更新", "")],
                      (after_row(x) for x in sec.after_sales), len(sec.after_sales), "没有未结的售后"))

    def case_row(x: dict) -> str:
        c, b, nxt = x["case"], x["buyer"] or {}, x["next"]
        history = "<br>".join(_e(f"{t(e['at'])} {e['by_name'] or ''} {aftersales.EVENT_NAMES.get(e['kind'], (e['kind'],))[0]}"
                                 f"{(' ' + aftersales.OFFERS[e['offer']][0]) if e['offer'] else ''}"
                                 f"{(' ¥' + aftersales.yuan(e['amount'])) if e['amount'] is not None else ''}"
                                 f"{(' ' + aftersales.detail_text(e['detail'])) if e['detail'] else ''}") for e in c["events"][-5:])
        return (f"<tr><td>{_e(b.get('nickname', ''))}</td><td>{_e(_platform(b.get('platform', '')))} "
                f"{_e(b.get('shop', ''))}</td><td>{_e(aftersales.STATUSES[c['status']][0])}</td>"
                f'<td class="num">{c["step"]}/4</td><td>{_e(aftersales.SEVERITIES[c["severity"]][0])} · '
                f'{_e(aftersales.MOODS[c["mood"]][0])}</td><td>{_e(c["category"]["name"])}</td>'
                f'<td>{_e(c["order_no"])}</td><td class="notes">{_e(c["problem"])}</td>'
                f'<td class="notes">{history}</td>'
                f'<td class="time">{_e(t(nxt["due_at"]) if nxt else "")}</td></tr>')

    ak = doc.get("aftersales_kpis") or {}
    if sec.cases or ak.get("opened") or ak.get("closed"):
        reasons = "、".join(f"{r['category']} {r['count']}" for r in ak.get("refund_reasons", [])) or "—"
        out.append(f'<p class="meta" id="aftersales-kpis">售后：未结 {ak.get("open_now", 0)} 单 · 本班新开 '
                   f'{ak.get("opened", 0)} · 结案 {ak.get("closed", 0)} · 赔偿 ¥{_e(ak.get("compensation_total_yuan", "0.00"))}'
                   f' · 退款 {ak.get("refunds", 0)}（原因：{_e(reasons)}）· 升级主管 {ak.get("escalations", 0)}</p>')
        out.append(_table("cases", "售后单（未结，交给下一班）", [("买家", ""), ("平台 / 店铺", ""), ("状态", ""),
                                                       ("步骤", "num"), ("程度 · 情绪", ""), ("分类", ""), ("订单", ""),
                                                       ("问题（买家原话）", ""), ("最近记录", ""), ("下次跟进", "")],
                          (case_row(x) for x in sec.cases), len(sec.cases), "没有未结的售后单"))

    # the promotion phone list as this shift worked it: the next shift goes on from the last call
    by_buyer = {b["uuid"]: b for b in doc["buyers"]}
    call_rows = []
    for p in doc.get("promotions", []):
        last: dict[str, dict] = {}
        for call in p.get("calls", []):
            last[call["buyer"]] = call
        for buyer_uuid, call in last.items():
            b = by_buyer.get(buyer_uuid, {})
            outcome = reminders.CALL_OUTCOMES.get(call["outcome"], (call["outcome"],))[0]
            again = t(call["retry_at"]) if call.get("retry_at") and call["outcome"] in ("no_answer", "rescheduled") else ""
            call_rows.append(f'<tr><td>{_e(p["name"])}</td><td>{_e(b.get("nickname", ""))}</td><td>{_e(outcome)}</td>'
                             f'<td class="time">{_e(t(call["at"]))}</td><td class="time">{_e(again)}</td></tr>')
    if call_rows:
        out.append(_table("calls", "大促电话名单（最近一次通话）", [("活动", ""), ("买家", ""), ("结果", ""), ("时间", ""),
                                                        ("再打", "")], iter(call_rows), len(call_rows), ""))

    # unpaid orders: the open ones for the next shift to chase, and those paid or closed in this one
    order_rows = []
    for o in doc.get("orders", []):
        b = by_buyer.get(o["buyer"], {})
        status = {"unpaid": "未付款", "paid": "本班已付款", "closed": "本班已关闭"}.get(o["status"], o["status"])
        amount = f'{o["amount"] // 100}.{o["amount"] % 100:02d}' if o.get("amount") is not None else ""
        order_rows.append(f'<tr><td>{_e(b.get("nickname", ""))}</td><td>{_e(o["order_no"])}</td>'
                          f'<td class="num">{_e(amount)}</td><td class="time">{_e(t(o["deadline_at"]))}</td>'
                          f'<td>{_e(status)}</td><td>{_e(o.get("item", ""))}</td></tr>')
    if order_rows:
        out.append(_table("orders", "未付款订单（催付）", [("买家", ""), ("订单号", ""), ("金额", "num"), ("关闭时间", ""),
                                                      ("状态", ""), ("商品", "")], iter(order_rows), len(order_rows), ""))

    def log_row(e: dict) -> str:
        kind = shifts.ENTRY_KINDS.get(e["kind"], (e["kind"],))[0]
        return (f'<tr><td class="time">{_e(t(e["at"]))}</td><td>{_e(kind)}</td>'
                f'<td class="notes">{_e(e["text"])}</td></tr>')

    out.append(_table("log", "工作日志（今日问题 · 顾客需求 · 备注）", [("时间", ""), ("类型", ""), ("内容", "")],
                      (log_row(e) for e in sec.log), len(sec.log), "本班没有写日志"))
    top = k["top_replies"]
    out.append(_table("top-replies", "常用回复 Top 10", [("#", "num"), ("回复", ""), ("次数", "num")],
                      (f'<tr><td class="num">{i}</td><td>{_e(t["title"])}</td><td class="num">{t["count"]}</td></tr>'
                       for i, t in enumerate(top, 1)), len(top), "本班没有粘贴回复"))
    out.append(f'<footer>kefu-assistant {_e(doc.get("app_version"))} · {_e(FORMAT)} v{VERSION} · '
               f'买家 {doc["counts"]["buyers"]} 位 · 待催 {doc["counts"]["pending_reminders"]} 条</footer>')
    out.append("</body></html>\n")
    return "".join(out)
