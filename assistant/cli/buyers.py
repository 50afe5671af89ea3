"""`kefu buyers ...`, `kefu due`, `kefu promo ...`, `kefu cadences`: starred buyers and chase reminders.

assistant/cli/main.py calls register(sub, add, common) from build_parser. Phone numbers are printed masked
everywhere except `kefu buyers show NICK --phone` and `kefu promo phones NAME` (the list to phone).
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from . import out as cliout

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$", re.I)


_out = cliout.out
_json = cliout.json_out


def parse_duration(text: str) -> timedelta:
    """'1h', '30m', '2h30m', '1d', '90s'; a bare number is minutes."""
    raw = str(text or "").strip()
    if raw.isdigit():
        return timedelta(minutes=int(raw))
    match = _DURATION.match(raw)
    if not raw or not match or not any(match.groups()):
        raise ValidationError(f"时长“{raw}”无效，例如 30m、1h、2h30m、1d", f"Invalid duration '{raw}'; e.g. 30m, 1h, 2h30m, 1d",
                              field="within")
    d, h, m, s = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def _agent_tz(store) -> tzinfo:
    from ..core import reminders

    return reminders.get_config(store).agent_tz


def _fmt(when: datetime | str | None, tz: tzinfo, with_date: bool = True) -> str:
    from ..core.clock import from_db

    if isinstance(when, str):
        when = from_db(when)
    if when is None:
        return "-"
    local = when.astimezone(tz)
    return local.strftime("%m-%d %H:%M" if with_date else "%H:%M")


def _buyer(ctx):
    from ..core import customers

    return customers.find_buyer(ctx.store, ctx.args.nickname, ctx.args.platform, ctx.args.shop)


# ---------------------------------------------------------------- buyers

def cmd_buyers_list(ctx) -> int:
    from ..core import customers, masking

    a = ctx.args
    items = customers.list_buyers(ctx.store, starred=None if a.all else True, state=a.state, platform=a.platform,
                                  shop=a.shop, mark=a.mark, text=a.search, limit=a.limit)
    mask = masking.mask_text  # phone and order numbers in notes, like the phone itself
    if a.json:
        _json([{**b.to_dict(), "notes": mask(b.notes or "")} for b in items])
        return 0
    tz = _agent_tz(ctx.store)
    cliout.table([[str(b.id), b.platform_name, b.shop or "-", b.nickname, b.state_name, "、".join(b.marks),
                    b.phone_masked or "", str(b.chase_count), _fmt(b.last_chase_at, tz), mask(b.notes or "")]
                   for b in items],
                  ["ID", "平台", "店铺", "买家", "状态", "标记", "电话", "催单", "上次催单", "备注"],
                  [6, 10, 14, 16, 6, 24, 14, 4, 11, 24])
    _out(f"{len(items)} buyers / 共 {len(items)} 位")
    return 0


def cmd_buyers_show(ctx) -> int:
    from ..core import customers, masking, products, reminders

    store = ctx.store
    buyer = _buyer(ctx)
    history = customers.chase_history(store, buyer.id)
    pending = reminders.buyer_reminders(store, buyer.id)
    proposal = reminders.propose(store, buyer.id) if buyer.state == "following" else None
    phone = customers.reveal_phone(store, buyer.id) if ctx.args.phone else buyer.phone_masked
    if not ctx.args.phone:  # --phone shows numbers in the notes too
        buyer.notes = masking.mask_text(buyer.notes or "")
    if ctx.args.json:
        data = buyer.to_dict()
        if ctx.args.phone:
            data["phone"] = phone
        data["history"] = [c.to_dict() for c in history]
        data["reminders"] = [r.to_dict() for r in pending]
        data["proposal"] = proposal.to_dict() if proposal else None
        data["products"] = [link.product.to_dict() for link in products.links(store, buyer.id)]
        _json(data)
        return 0
    tz = _agent_tz(store)
    _out(f"买家 Buyer:   {buyer.nickname}  [id {buyer.id}]")
    _out(f"平台 Platform: {buyer.platform_name}    店铺 Shop: {buyer.shop or '-'}")
    _out(f"状态 State:   {buyer.state_name}{'  ★' if buyer.starred else ''}    标记 Marks: {'、'.join(buyer.marks) or '-'}")
    other = customers.held_by_other(ctx.store, buyer)
    if other is not None:  # team mode: another agent follows this buyer
        _out(f"跟进 Holder:  {other[1]} 跟进中 / followed by {other[1]}  (kefu buyers take-over)")
    _out(f"电话 Phone:   {phone or '-'}    时区 Time zone: {buyer.tz or '-'}    语言 Lang: {buyer.language or '-'}")
    if buyer.open_questions:
        _out("待解答 Open questions: yes / 有未解答的问题")
    if buyer.notes:
        _out("备注 Notes:")
        for line in buyer.notes.splitlines():
            _out(f"  {line}")
    linked = products.links(store, buyer.id)
    if linked:
        _out(f"商品 Products: {'、'.join(link.product.name for link in linked)}  (填空 fill-ins: {linked[0].product.name})")
    _out(f"节奏 Cadence: {buyer.cadence_id or '-'}")
    for r in pending:
        _out(f"  提醒 {_fmt(r.due_at, tz)}  {r.cadence_name} {r.step + 1}/{r.steps_total or 1}  ({r.kind})")
    _out(f"催单记录 Chases ({len(history)}):")
    for c in history:
        replied = "  ✓ replied/已回复" if c.buyer_replied else ""
        _out(f"  {_fmt(c.sent_at, tz)}  {c.angle or '-':9}  {c.reply_title or '-'}{replied}")
    if proposal:
        generic = "  [通用 generic: adapt it]" if proposal.generic else ""
        _out(f"建议 Next: [{proposal.angle or '-'}] {proposal.reply_title or '-'}{generic}")
        if proposal.selling_point:
            _out(f"  卖点 Selling point: {proposal.selling_point}")
        for msg in proposal.messages("zh"):
            _out(f"  ! {msg}")
    return 0


def _open_questions(value: str | None) -> bool | None:
    if value is None:
        return None
    return value in ("open", "yes", "1", "true", "有")


def cmd_buyers_star(ctx) -> int:
    from ..core import customers, reminders
    from ..errors import NotFoundError

    a = ctx.args
    fields = {"marks": a.mark or [], "notes": a.note, "phone": a.phone, "tz": a.tz, "language": a.lang,
              "open_questions": _open_questions(a.questions), "cadence": a.cadence}
    if a.platform:
        buyer = reminders.star(ctx.store, platform=a.platform, nickname=a.nickname, shop=a.shop or "", **fields)
    else:
        try:
            existing = customers.find_buyer(ctx.store, a.nickname, None, a.shop)
        except NotFoundError:
            raise ValidationError("新买家请用 --platform 指定平台（千牛/京东/拼多多/AliExpress/Amazon/其他）",
                                  "A new buyer needs --platform (taobao, jd, pdd, aliexpress, amazon, other)",
                                  field="platform") from None
        buyer = reminders.star(ctx.store, buyer_id=existing.id, **fields)
    if a.json:
        _json(buyer.to_dict())
        return 0
    pending = reminders.buyer_reminders(ctx.store, buyer.id)
    nxt = f"; next reminder {_fmt(pending[0].due_at, _agent_tz(ctx.store))} / 下次提醒" if pending else ""
    _out(f"Starred buyer {buyer.id} ({buyer.cadence_id}){nxt} / 已标星")
    return 0


def cmd_buyers_unstar(ctx) -> int:
    from ..core import reminders

    buyer = reminders.unstar(ctx.store, _buyer(ctx).id)
    _out(f"Unstarred buyer {buyer.id}; its reminders are cancelled / 已取消标星")
    return 0


def cmd_buyers_take_over(ctx) -> int:
    """Team mode: follow a buyer another agent holds; logged on the server with the reason."""
    from ..core import customers

    buyer = _buyer(ctx)
    before = customers.held_by_other(ctx.store, buyer)
    customers.take_over(ctx.store, buyer.id, ctx.args.reason or "")
    who = before[1] if before else "-"
    _out(f"已接手 Taken over buyer {buyer.id} (from {who}); sent with the next sync / 下次同步时发送到服务器")
    return 0


def cmd_buyers_note(ctx) -> int:
    from ..core import customers

    buyer = _buyer(ctx)
    if ctx.args.append:
        customers.append_note(ctx.store, buyer.id, ctx.args.text)
    else:
        customers.update_buyer(ctx.store, buyer.id, notes=ctx.args.text)
    _out(f"Notes saved for buyer {buyer.id} / 备注已保存")
    return 0


def cmd_buyers_set(ctx) -> int:
    from ..core import customers

    a = ctx.args
    changes: dict[str, Any] = {}
    if a.clear_phone:
        changes["phone"] = None
    elif a.set_phone is not None:
        changes["phone"] = a.set_phone
    if a.tz is not None:
        changes["tz"] = a.tz
    if a.lang is not None:
        changes["language"] = a.lang
    if a.questions is not None:
        changes["open_questions"] = _open_questions(a.questions)
    if not changes:
        raise ValidationError("没有要修改的内容（见 --help）", "Nothing to change (see --help)")
    buyer = customers.update_buyer(ctx.store, _buyer(ctx).id, **changes)
    _out(f"Updated buyer {buyer.id} / 已修改")
    return 0


def cmd_buyers_mark(ctx) -> int:
    from ..core import reminders

    a = ctx.args
    if not a.add and not a.remove:
        raise ValidationError("请用 --add 或 --remove 给出标记", "Give marks with --add or --remove", field="mark")
    buyer = reminders.set_marks(ctx.store, _buyer(ctx).id, add=a.add or [], remove=a.remove or [])
    if a.json:
        _json(buyer.to_dict())
    else:
        _out(f"Marks of buyer {buyer.id}: {'、'.join(buyer.marks) or '-'} / 标记已更新")
    return 0


def cmd_buyers_marks(ctx) -> int:
    from ..core import customers

    a = ctx.args
    if a.add:
        mark = customers.create_mark(ctx.store, a.add, a.shop or "")
        _out(f"Added mark {mark.name} [id {mark.id}] / 已添加标记")
        return 0
    if a.delete:
        mark = customers.delete_mark(ctx.store, a.delete, a.shop or "")
        _out(f"Deleted mark {mark.name} / 已删除标记")
        return 0
    marks = customers.list_marks(ctx.store, a.shop)
    if a.json:
        _json([{**m.__dict__, "builtin": m.builtin} for m in marks])
        return 0
    for m in marks:
        _out(f"{m.name}  ({m.buyer_count})  [{m.code or 'id ' + str(m.id)}]{'  shop: ' + m.shop if m.shop else ''}")
    return 0


def cmd_buyers_outcome(ctx) -> int:
    from ..core import reminders

    a = ctx.args
    buyer = reminders.outcome(ctx.store, _buyer(ctx).id, a.outcome, minutes=a.minutes)
    kind = reminders.normalize_outcome(a.outcome)
    zh, en = reminders.OUTCOMES[kind]
    _out(f"Buyer {buyer.id}: {en} / {zh}")
    return 0


def cmd_buyers_dnc(ctx) -> int:
    from ..core import reminders

    buyer = reminders.set_do_not_call(ctx.store, _buyer(ctx).id, not ctx.args.off)
    _out(f"Buyer {buyer.id}: do not call {'off' if ctx.args.off else 'on'} / 勿扰{'已取消' if ctx.args.off else '已开启'}")
    return 0


def cmd_buyers_mood(ctx) -> int:
    from ..core import invites

    buyer = invites.set_mood(ctx.store, _buyer(ctx).id, ctx.args.mood)
    zh, en = invites.MOODS[buyer.mood] if buyer.mood else ("未标记", "not marked")
    _out(f"Buyer {buyer.id}: mood {en} / 心情 {zh}")
    return 0


def cmd_buyers_invite(ctx) -> int:
    """May this buyer be asked for a review now, and with which scripts (filled in for them)."""
    from ..core import invites, replies, settings

    store = ctx.store
    buyer = _buyer(ctx)
    verdict = invites.verdict(store, buyer.id)
    scripts = []
    if verdict.allowed:
        values = replies.paste_values(settings.get(store, "agent.name"), {"客户": buyer.nickname, "店铺": buyer.shop})
        for item in invites.invite_replies(store):
            text = replies.render_row(replies.paste_row(store, item["id"]), values).text
            scripts.append({**item, "text": text})
    if ctx.args.json:
        _json({"buyer_id": buyer.id, **verdict.to_dict(), "scripts": scripts})
        return 0 if verdict.allowed else 1
    if not verdict.allowed:
        cliout.error(f"不要邀评 No review invite: {verdict.zh} / {verdict.en}")
        return 1
    _out(f"可以邀评 A review invite is fine: {verdict.zh} / {verdict.en}")
    for item in scripts:
        _out(f"  [{item['code'] or item['id']}] {item['title']}: {item['text']}")
    if not scripts:
        _out("  没有邀评话术：把话术放进名称含“邀评”的分组 / no review-invite scripts: put them in a group "
             "whose name holds 邀评 (setting invites.group_words)")
    return 0


# ---------------------------------------------------------------- due

def cmd_due(ctx) -> int:
    from ..core import cadence, reminders

    store = ctx.store
    within = parse_duration(ctx.args.within)
    items = reminders.due(store, within=within, limit=ctx.args.limit)
    proposals = {}
    for item in items:
        if item.buyer_id is not None and item.buyer_id not in proposals and item.buyer_state == "following":
            proposals[item.buyer_id] = reminders.propose(store, item.buyer_id)
    if ctx.args.json:
        _json([{**i.to_dict(), "proposal": proposals[i.buyer_id].to_dict() if i.buyer_id in proposals else None}
               for i in items])
        return 0
    if not items:
        _out(f"Nothing due within {ctx.args.within} / 暂无到期提醒")
        return 0
    tz = _agent_tz(store)
    rows = []
    for i in items:
        zh_kind = reminders.KINDS[i.kind][0]
        who = i.nickname if i.buyer_id is not None else (i.promotion_name or "")
        step = f"{i.cadence_name} {i.step + 1}/{i.steps_total}" if i.kind == "chase" else zh_kind
        p = proposals.get(i.buyer_id) if i.buyer_id is not None else None
        hint = ""
        if p is not None:
            hint = f"[{cadence.ANGLE_NAMES.get(p.angle or '', ('-', '-'))[0]}] {p.reply_title or '-'}"
            if p.blocked:
                hint = "⚠ " + cadence.describe(p.blocked)
        rows.append([_fmt(i.due_at, tz), step, who or "", i.platform or "", "、".join(i.marks), hint])
    cliout.table(rows, ["到期", "节奏", "买家/活动", "平台", "标记", "建议话术"], [11, 14, 16, 10, 20, 40])
    _out(f"{len(items)} due / 共 {len(items)} 条")
    return 0


# ---------------------------------------------------------------- promotions

def cmd_promo_add(ctx) -> int:
    from ..core import reminders, zones

    store = ctx.store
    tz = _agent_tz(store)
    if ctx.args.tz:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(zones.check_tz(ctx.args.tz))  # type: ignore[arg-type]
    start = reminders.parse_local(ctx.args.start, tz)
    promo = reminders.add_promotion(store, ctx.args.name, start, team_shop=ctx.args.shop)
    if ctx.args.json:
        _json(promo.to_dict())
        return 0
    local = _agent_tz(store)
    _out(f"Added promotion {promo.name} starting {_fmt(promo.start_at, local)} / 已添加活动")
    _out(f"  phone list / 电话名单: {_fmt(promo.phone_at, local)}")
    if promo.wave_total:
        _out(f"  wave / 催付: {promo.wave_total} buyers, {_fmt(promo.wave_start, local)} – {_fmt(promo.wave_end, local)}")
    if ctx.args.shop:
        _out("  the shop's promotion: sent to the team with the next sync (the panel, or kefu team sync) / "
             "店铺活动：下次同步时发给全店客服")
    return 0


def cmd_promo_list(ctx) -> int:
    from ..core import reminders

    items = reminders.list_promotions(ctx.store, include_past=ctx.args.all)
    if ctx.args.json:
        _json([p.to_dict() for p in items])
        return 0
    tz = _agent_tz(ctx.store)
    cliout.table([[str(p.id), p.name, _fmt(p.start_at, tz), _fmt(p.phone_at, tz), _fmt(p.wave_start, tz),
                    _fmt(p.wave_end, tz), f"{p.wave_pending}/{p.wave_total}"] for p in items],
                  ["ID", "活动", "开始", "电话名单", "催付开始", "催付结束", "待催/总数"], [6, 16, 11, 11, 11, 11, 10])
    return 0


def cmd_promo_phones(ctx) -> int:
    from ..core import reminders

    entries = reminders.phone_list(ctx.store, ctx.args.promotion, reveal=True)  # shown: logged, never the numbers
    if ctx.args.json:
        _json([{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in e.__dict__.items()} for e in entries])
        return 0
    if not entries:
        _out("No high-ticket, high-intent buyer to phone / 没有需要电话联系的买家")
        return 0
    tz = _agent_tz(ctx.store)
    status = {"to_call": "待打 to call", "retry": "再打 call again", "later": "稍后 later", "done": "已完成 done"}

    def state(e) -> str:
        text = status[e.status] + ((" " + _fmt(e.retry_at, tz)) if e.status == "later" and e.retry_at else "")
        return text + (" · 夜间 night" if e.night and e.status != "done" else "")

    cliout.table([[e.nickname, e.platform, e.phone or "(no phone / 无电话)", e.local_time.strftime("%H:%M") if e.local_time
                   else "-", state(e), "、".join(e.marks), e.notes] for e in entries],
                  ["买家", "平台", "电话", "当地时间", "状态", "标记", "备注"], [16, 8, 16, 8, 22, 16, 24])
    return 0


def cmd_promo_call(ctx) -> int:
    """How one call of the promotion's phone list went."""
    from ..core import reminders, zones

    store = ctx.store
    at = None
    if ctx.args.at:
        tz = _agent_tz(store)
        if ctx.args.tz:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(zones.check_tz(ctx.args.tz))  # type: ignore[arg-type]
        at = reminders.parse_local(ctx.args.at, tz)
    entry = reminders.record_call(store, ctx.args.promotion, _buyer(ctx).id, ctx.args.outcome, at=at)
    zh, en = reminders.CALL_OUTCOMES[entry.last_outcome] if entry and entry.last_outcome else ("", "")
    when = f" (again {_fmt(entry.retry_at, _agent_tz(store))} / 再打)" if entry and entry.retry_at else ""
    _out(f"Call recorded: {en}{when} / 已记录：{zh}")
    return 0


def cmd_promo_edit(ctx) -> int:
    from ..core import reminders, zones

    store = ctx.store
    tz = _agent_tz(store)
    if ctx.args.tz:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(zones.check_tz(ctx.args.tz))  # type: ignore[arg-type]
    start = reminders.parse_local(ctx.args.start, tz) if ctx.args.start else None
    promo = reminders.update_promotion(store, ctx.args.promotion, name=ctx.args.name, start=start)
    if ctx.args.json:
        _json(promo.to_dict())
        return 0
    local = _agent_tz(store)
    _out(f"Promotion {promo.name} now starts {_fmt(promo.start_at, local)}; phone list and wave planned again / "
         "已修改活动，电话名单和催付已重新安排")
    return 0


def cmd_promo_rm(ctx) -> int:
    from ..core import reminders

    promo = reminders.delete_promotion(ctx.store, ctx.args.promotion)
    _out(f"Deleted promotion {promo.name} and its reminders / 已删除活动")
    return 0


# ---------------------------------------------------------------- cadences

def cmd_cadences(ctx) -> int:
    from ..core import reminders

    a = ctx.args
    if a.set:
        try:
            data = json.loads(Path(a.set).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"无法读取节奏文件 {a.set}：{exc}", f"Cannot read cadence file {a.set}: {exc}") from exc
        items = data.get("cadences", [data]) if isinstance(data, dict) else data
        for item in items:
            saved = reminders.save_cadence(ctx.store, item)
            _out(f"Saved cadence {saved.id} / 已保存节奏：{saved.zh}")
        return 0
    if a.reset:
        c = reminders.reset_cadence(ctx.store, a.reset)
        _out(f"Cadence {c.id} is back to the default / 已恢复默认：{c.zh}")
        return 0
    items = list(reminders.cadences(ctx.store).values())
    if a.json:
        _json({"format": "kefu-assistant.cadences", "version": 1, "cadences": [c.to_dict() for c in items]})
        return 0
    for c in items:
        steps = []
        for s in c.steps:
            if s.next_shift:
                steps.append("next shift/下个班次")
            elif s.day is not None:
                steps.append(f"day {s.day} {s.at:%H:%M}")
            elif s.after_created is not None:
                steps.append(f"order+{s.after_created}m/下单后")
            elif s.before_deadline is not None:
                steps.append(f"close-{s.before_deadline}m/关闭前")
            else:
                steps.append(f"{s.wait_minutes}m")
        if c.promotion:
            p = c.promotion
            steps = [f"T-{p.phone_lead_minutes}m phone list/电话名单", f"T-{p.wave_lead_minutes}m wave/催付"]
        _out(f"{c.id:12} {c.zh}  {' → '.join(steps)}")
    return 0


# ---------------------------------------------------------------- parser

def register(sub, add, common) -> None:
    """Called by assistant/cli.py build_parser: adds buyers, due, promo and cadences."""
    buyers_p = sub.add_parser("buyers", help="starred buyers / 标星买家", parents=[common])
    bsub = buyers_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)

    def who(p: argparse.ArgumentParser, nick: bool = True) -> None:
        if nick:
            p.add_argument("nickname", metavar="NICK", help="buyer nickname (or id) / 买家昵称")
        p.add_argument("--platform", help="千牛/京东/拼多多/AliExpress/Amazon/其他 (taobao, jd, pdd, ...)")
        p.add_argument("--shop", help="shop name / 店铺")

    p = add(bsub, "list", cmd_buyers_list, "list starred buyers (phones masked) / 列出标星买家", True)
    p.add_argument("--all", action="store_true", help="include buyers who are not starred")
    p.add_argument("--state", help="following/paid/lost/paused (跟进中/已付款/已流失/已暂停)")
    p.add_argument("--platform")
    p.add_argument("--shop")
    p.add_argument("--mark", help="mark name or code (高客单, high_ticket)")
    p.add_argument("--search", help="text in nickname or notes")
    p.add_argument("--limit", type=cliout.whole_number())
    p = add(bsub, "show", cmd_buyers_show, "one buyer: marks, notes, chases, next script / 查看买家", True)
    who(p)
    p.add_argument("--phone", action="store_true", help="show the full phone number (and numbers in notes) / 显示完整电话")
    p = add(bsub, "star", cmd_buyers_star, "star a buyer and start a chase cadence / 标星买家", True)
    who(p)
    p.add_argument("--mark", action="append", help="mark (repeatable): 咨询未付款 意向明显 高客单 低客单 售后中 老客户")
    p.add_argument("--note", help="notes / 备注")
    p.add_argument("--phone", help="phone number (stored; shown masked) / 电话")
    p.add_argument("--tz", help="buyer's IANA time zone, e.g. America/New_York / 买家时区")
    p.add_argument("--lang", help="buyer's language for scripts (zh, en, ru, es)")
    p.add_argument("--questions", choices=("open", "closed"), help="the buyer has open questions / 有未解答的问题")
    p.add_argument("--cadence", help="in_chat, revisit, high_ticket, low_ticket (default: by marks)")
    p = add(bsub, "unstar", cmd_buyers_unstar, "unstar a buyer (cancels reminders) / 取消标星")
    who(p)
    p = add(bsub, "take-over", cmd_buyers_take_over,
            "team mode: follow a buyer another agent holds (logged) / 接手同事跟进的买家")
    who(p)
    p.add_argument("--reason", help="why (shown in the team's log) / 原因")
    p = add(bsub, "note", cmd_buyers_note, "set or append notes / 备注")
    who(p)
    p.add_argument("text")
    p.add_argument("--append", action="store_true", help="add a line instead of replacing")
    p = add(bsub, "set", cmd_buyers_set, "phone, time zone, language, open questions / 修改买家信息")
    who(p)
    p.add_argument("--phone", dest="set_phone", metavar="NUMBER")
    p.add_argument("--clear-phone", action="store_true")
    p.add_argument("--tz")
    p.add_argument("--lang")
    p.add_argument("--questions", choices=("open", "closed"))
    p = add(bsub, "mark", cmd_buyers_mark, "add or remove marks / 标记", True)
    who(p)
    p.add_argument("--add", action="append", metavar="MARK")
    p.add_argument("--remove", action="append", metavar="MARK")
    p = add(bsub, "marks", cmd_buyers_marks, "list marks, or add a shop's own / 标记列表", True)
    p.add_argument("--shop")
    p.add_argument("--add", "--new", dest="add", metavar="NAME", help="add a mark (for --shop only, or every shop)")
    p.add_argument("--delete", metavar="NAME", help="delete a shop's own mark")
    p = add(bsub, "outcome", cmd_buyers_outcome, "paid, lost, snooze, replied, pause, resume / 结果")
    who(p)
    p.add_argument("outcome", metavar="OUTCOME", help="paid/已付款 lost/已流失 snooze/暂缓 replied/顾客回复了 pause resume")
    p.add_argument("--minutes", type=cliout.whole_number(1, 7 * 24 * 60), help="snooze minutes (default 10)")

    p = add(bsub, "dnc", cmd_buyers_dnc, "勿扰: keep the buyer off phone lists and promotion waves / 勿扰")
    who(p)
    p.add_argument("--off", action="store_true", help="call and chase them in promotions again")
    p = add(bsub, "mood", cmd_buyers_mood, "mark the buyer's mood (review invites need 满意) / 标记买家心情")
    who(p)
    p.add_argument("mood", metavar="MOOD", help="pleased/满意 calm/平静 unhappy/不满 angry/生气 confused/疑惑, or clear")
    p = add(bsub, "invite", cmd_buyers_invite,
            "may the buyer be asked for a review now? the 邀评 scripts if so (exit 1 if not) / 能否邀评", True)
    who(p)

    from .products import register_buyer_command

    register_buyer_command(bsub, add, who)

    p = add(sub, "due", cmd_due, "chase reminders due now or soon / 到期提醒", True)
    p.add_argument("--within", default="0m", help="also list what falls due within this time (30m, 1h, 1d)")
    p.add_argument("--limit", type=cliout.whole_number())

    promo_p = sub.add_parser("promo", help="promotions: phone list and chase wave / 大促", parents=[common])
    psub = promo_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    p = add(psub, "add", cmd_promo_add, "add a promotion (T-3h phone list, T-2h wave) / 添加活动", True)
    p.add_argument("--name", required=True)
    p.add_argument("--start", required=True, help='"2026-11-11 00:00", your local time (or --tz)')
    p.add_argument("--tz", help="time zone of --start (default: yours)")
    p.add_argument("--shop", help="team mode, supervisors: the promotion of this team shop, for every agent "
                                  "(each gets the wave slots of the buyers they follow) / 团队模式：店铺活动")
    p = add(psub, "list", cmd_promo_list, "list promotions / 活动列表", True)
    p.add_argument("--all", action="store_true", help="include past promotions")
    p = add(psub, "phones", cmd_promo_phones, "the phone list, numbers in full / 电话名单（完整号码）", True)
    p.add_argument("promotion", metavar="NAME")
    p = add(psub, "call", cmd_promo_call, "how a call of the phone list went / 记录电话结果")
    p.add_argument("promotion", metavar="PROMOTION")
    who(p)
    p.add_argument("outcome", metavar="OUTCOME", help="answered/接通 no-answer/未接 reschedule/改约 not-needed/不需要")
    p.add_argument("--at", help='reschedule: when to call again, "2026-11-10 22:30", your local time (or --tz)')
    p.add_argument("--tz", help="time zone of --at (default: yours)")
    p = add(psub, "edit", cmd_promo_edit, "rename a promotion or move its start (replans it) / 修改活动", True)
    p.add_argument("promotion", metavar="NAME")
    p.add_argument("--name", help="the new name")
    p.add_argument("--start", help='the new start, "2026-11-11 00:00", your local time (or --tz)')
    p.add_argument("--tz", help="time zone of --start (default: yours)")
    p = add(psub, "rm", cmd_promo_rm, "delete a promotion and its reminders / 删除活动")
    p.add_argument("promotion", metavar="NAME")

    p = add(sub, "cadences", cmd_cadences, "chase cadences: list, edit (--set FILE), reset / 催单节奏", True)
    p.add_argument("--set", metavar="FILE", help="save cadence definitions from a JSON file")
    p.add_argument("--reset", metavar="ID", help="restore the shipped definition")
