"""Chase reminders on the GUI side: the chase actions and the popup.

The scheduler (one timer for the next due reminder) is not a widget: services/scheduler.py.

ChaseActions
    What every reminder view does (popup, 提醒 tab, 客户 tab): paste the proposed script (through
    the paste flow (services/pasteflow.py), wired in app.py to paste_chase), then record the chase when
    the paste flow answers that very paste (its attribution) with attributed_paste_done;
    snooze, paid, lost, replied, open the buyer; star a buyer from the star-selection hotkey. All
    store work goes through the StoreWorker.

ReminderPopup
    A small always-on-top tool window near the panel that never takes focus from the chat client
    (Tool | WindowStaysOnTopHint | WindowDoesNotAcceptFocus, WA_ShowWithoutActivating, NoFocus
    buttons, no QMenu). Several reminders due at once stack as cards in ONE popup.
"""

from __future__ import annotations

import html
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import cadence as cad
from ...core import customers, orders, products, reminders, templates
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from ..team import queries as team_queries
from ..team.holder import TAG_BG, TAG_FG, TakeOverDialog, blocked_text, following_text, tag_html
from ..widgets import i18n, icons, style

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

# A shown card asks again for its proposal this often: "too soon after the previous chase" and "late
# by" are true at one moment, not five minutes later.
RECHECK_MS = 60_000
MAX_PENDING_CHASES = 50  # attributed pastes never answered (fill-in form cancelled, reply deleted): oldest dropped
POPUP_MAX_CARDS = 12
# coalesce a burst of writes (a sync applies many rows) into one check of the shown reminders
PRUNE_MS = 150


# ================================================================ formatting helpers

def local(when: datetime | None) -> datetime | None:
    return when.astimezone() if when is not None else None


def ago(when: datetime | None, now: datetime) -> str:
    """'刚刚', '5 分钟前', '2 小时前', '3 天前' (translated)."""
    if when is None:
        return ""
    seconds = (now - when).total_seconds()
    if seconds < 0:
        return in_time(when, now)
    if seconds < 60:
        return translate("Reminders", "刚刚")
    if seconds < 3600:
        return translate("Reminders", "%n 分钟前", None, int(seconds // 60))
    if seconds < 86400:
        return translate("Reminders", "%n 小时前", None, int(seconds // 3600))
    return translate("Reminders", "%n 天前", None, int(seconds // 86400))


def in_time(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    if seconds <= 30:
        return translate("Reminders", "现在")
    if seconds < 3600:
        return translate("Reminders", "%n 分钟后", None, max(1, round(seconds / 60)))
    return clock_text(when, now)


def clock_text(when: datetime, now: datetime) -> str:
    mine, today = local(when), local(now)
    assert mine is not None and today is not None
    if mine.date() == today.date():
        return mine.strftime("%H:%M")
    if mine.date() == (today + timedelta(days=1)).date():
        return translate("Reminders", "明天 {time}").replace("{time}", mine.strftime("%H:%M"))
    return mine.strftime("%m-%d %H:%M")


def countdown_text(deadline: datetime, now: datetime) -> str:
    return orders.countdown(deadline, now, "en" if i18n.is_english() else "zh")


def urgent(deadline: datetime, now: datetime) -> bool:
    """The last hour before the order closes (or past it): shown in red."""
    return deadline - now <= timedelta(hours=1)


def order_line(order: orders.Order, now: datetime) -> str:
    amount = f"¥{order.amount_text}" if order.amount_text else "¥—"
    return f"{order.order_masked}  ·  {amount}  ·  {countdown_text(order.deadline_at, now)}"


def title_html(order_masked: str, amount: str | None, deadline: datetime, now: datetime) -> str:
    """The order line of a 催付 reminder card: masked number, amount, countdown (red in the last hour)."""
    colour = style.ERROR if urgent(deadline, now) else style.ACCENT
    money = f" · ¥{html.escape(amount)}" if amount else ""
    label = translate("Orders", "订单")  # outside the f-string: lupdate does not look inside them
    return (f'{html.escape(label)} {html.escape(order_masked)}{money} · '
            f'<span style="color:{colour}; font-weight:600;">{html.escape(countdown_text(deadline, now))}</span>')


def platform_name(code: str | None) -> str:
    zh, en = customers.PLATFORMS.get(code or "", (code or "", code or ""))
    return i18n.pick(zh, en)


def state_name(code: str | None) -> str:
    zh, en = customers.STATES.get(code or "", (code or "", code or ""))
    return i18n.pick(zh, en)


def angle_name(code: str | None) -> str:
    if not code:
        return ""
    zh, en = cad.ANGLE_NAMES.get(code, (code, code))
    return i18n.pick(zh, en)


def chip_html(names: list[str]) -> str:
    return " ".join(f'<span style="background-color:{style.FIELD_BG}; color:{style.FIELD_FG};">&nbsp;{html.escape(n)}'
                    f'&nbsp;</span>' for n in names)


# ================================================================ actions

@dataclass
class PendingChase:
    buyer_id: int
    reply_id: int
    reminder_id: int | None
    asked_at: float = field(default_factory=time.monotonic)
    #: the {卖点} the pasted text carries: the card's, or what the agent typed in the fill-in form
    selling_point: str | None = None
    order_id: int | None = None  # the 催付 of this unpaid order (core/orders.py records it)


_chase_attributions = itertools.count(1)


class ChaseActions(QObject):
    """The actions every reminder view offers; results come back as signals."""

    #: paste this reply into the chat window (reply id, fill-in values, attribution): app.py wires the
    #: paste flow's paste_reply_attributed, whose attributed_paste_done(attribution, ...) goes to
    #: on_attributed_paste_done;
    #: without a paste flow the text is copied
    paste_chase = Signal(int, dict, str)
    #: answer to the next-chase hotkey: (token, reply id, values, attribution) -> flow.paste_reply_to_attributed
    paste_chase_to = Signal(int, int, dict, str)
    #: open this buyer in the 客户 tab
    open_buyer = Signal(int)
    #: a reminder was acted on (its id): views drop it
    handled = Signal(int)
    #: a chase was recorded for this buyer
    chased = Signal(int)
    #: team mode: this panel took over the buyer (its id) from another agent
    taken_over = Signal(int)
    #: show this after-sales case (its id): the 售后 tab (ui/aftersales)
    open_case = Signal(int)
    #: after-sales for this buyer (id): their open case, or the form to open one
    open_aftersales = Signal(int)
    #: after-sales for a nickname no buyer has yet (nickname, platform, shop): the form, the buyer is
    #: starred when the case is saved
    new_case_for = Signal(str, str, str)

    def __init__(self, worker: StoreWorker, clock: Clock | None = None, parent: QObject | None = None, *,
                 messages: MessageBridge | None = None) -> None:
        super().__init__(parent)
        #: messages for the agent (zh, en, level): the app's bridge, which the panel shows
        self.messages = messages if messages is not None else MessageBridge(self)
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.paste_available = False
        self.pending: dict[str, PendingChase] = {}  # attribution of a paste asked for -> the chase it is
        self.last_place: tuple[str, str] | None = None  # platform, shop of the last star
        self.take_over_dialog: QDialog | None = None  # the last one opened (tests drive it)
        self._call_lists: dict[int, QDialog] = {}  # promotion id -> its phone list window

    def set_paste_available(self, available: bool) -> None:
        self.paste_available = bool(available)

    # ------------------------------------------------------------ paste

    def propose(self, buyer_id: int, done: Callable[[reminders.ChaseProposal], None], override: bool = False,
                order_id: int | None = None) -> None:
        """The script to chase the buyer with; order_id: the 催付 of that unpaid order."""
        now = self.clock.now()
        if order_id is not None:
            self.worker.submit(lambda store: orders.propose(store, f"#{order_id}", now, override=override), done,
                               self._error)
            return
        self.worker.submit(lambda store: reminders.propose(store, buyer_id, now, override=override), done,
                           self._error)

    def paste(self, buyer_id: int, nickname: str, proposal: reminders.ChaseProposal,
              reminder_id: int | None = None, token: int | None = None,
              values: dict[str, str] | None = None, order_id: int | None = None) -> None:
        """Paste the proposed script (fill-in {客户} = the buyer's nickname, plus `values`: a
        reminder's own, such as {活动} of a promotion wave) and record the chase once
        the paste flow confirms this paste (attributed_paste_done with its attribution: a paste of the same reply
        from the quick-replies list is not a chase); without a paste flow: copy and record now."""
        if proposal.reply_id is None or proposal.reply_body is None:
            self.messages.post("没有可用的催单话术：这位买家已收到所有角度的话术，请手动跟进",
                              "No chase script left: this buyer got every angle already; follow up by hand", "warning")
            return
        values = {"客户": nickname, **(values or {})}
        now = self.clock.now()

        def checked(holder: str | None) -> None:
            # Team mode: the buyer may have gone to another agent since this card or row was drawn (a
            # 交班, a take-over): then nothing reaches the chat window - the record would be refused
            # after the buyer already had the script, and the new holder is reminded of the same step.
            if holder:
                log.info("chase paste refused for buyer %d: another agent follows them", buyer_id)
                self.messages.post(blocked_text(holder), "", "warning")
                return
            self._paste(buyer_id, proposal, reminder_id, token, values, order_id)

        self.worker.submit(lambda store: team_queries.holder_of(store, buyer_id, now), checked, self._error)

    def _paste(self, buyer_id: int, proposal: reminders.ChaseProposal, reminder_id: int | None,
               token: int | None, values: dict[str, str], order_id: int | None = None) -> None:
        if self.paste_available:
            attribution = f"chase:{next(_chase_attributions)}"
            self.pending[attribution] = PendingChase(buyer_id, proposal.reply_id, reminder_id,
                                                     selling_point=values.get("卖点"), order_id=order_id)
            while len(self.pending) > MAX_PENDING_CHASES:
                self.pending.pop(next(iter(self.pending)))
            if token is None:
                self.paste_chase.emit(proposal.reply_id, values, attribution)
            else:
                self.paste_chase_to.emit(token, proposal.reply_id, values, attribution)
            return
        rendered = templates.render(proposal.reply_body, values)
        if rendered.missing:  # no fill-in form without the paste flow: a raw {卖点} never reaches a buyer
            self.messages.post(*rendered.blanks_notice(), "warning")
            return
        QGuiApplication.clipboard().setText(rendered.text)
        self.messages.post("催单话术已复制，请到聊天窗口按 Ctrl+V", "Chase script copied: press Ctrl+V in the chat window",
                          "success")
        self.record(buyer_id, proposal.reply_id, reminder_id, values.get("卖点"), order_id=order_id)

    def on_attributed_values(self, attribution: str, values: dict) -> None:
        """The agent filled in (or retyped) the chase script's fields: the {卖点} recorded as sent
        is the one in the pasted text, not the one proposed."""
        p = self.pending.get(attribution)
        if p is not None and str(values.get("卖点") or "").strip():
            p.selling_point = str(values["卖点"])

    def on_attributed_paste_done(self, attribution: str, reply_id: int, ok: bool) -> None:
        """The paste flow counted an attributed paste as used (pasted, or left on the clipboard for
        the agent: ok=False): if the attribution is one of our chases, record that chase, once."""
        p = self.pending.pop(attribution, None)
        if p is None:
            return
        if reply_id != p.reply_id:
            log.warning("chase paste %s came back for reply %d, not %d", attribution, reply_id, p.reply_id)
        log.info("chase paste %s done (%s): recording the chase", attribution, "pasted" if ok else "left on the clipboard")
        self.record(p.buyer_id, p.reply_id, p.reminder_id, p.selling_point, order_id=p.order_id)

    def record(self, buyer_id: int, reply_id: int | None, reminder_id: int | None = None,
               selling_point: str | None = None, order_id: int | None = None) -> None:
        now = self.clock.now()

        def done(result: reminders.ChaseRecorded) -> None:
            if reminder_id is not None:
                self.handled.emit(reminder_id)
            self.chased.emit(buyer_id)
            when = (translate("Reminders", "下次提醒：{time}").replace("{time}", clock_text(result.next_due, now))
                    if result.next_due else translate("Reminders", "节奏已完成，没有下一次提醒"))
            self.messages.post(translate("Reminders", "已记录催单。") + when, "", "success")

        if order_id is not None:  # a 催付: the order's reminders due now end, its later steps stay
            self.worker.submit(lambda store: orders.record_chase(store, f"#{order_id}", reply_id, now), done,
                               self._error, write=True)
            return
        self.worker.submit(lambda store: reminders.record_chase(store, buyer_id, reply_id, now,
                                                                selling_point=selling_point), done, self._error,
                           write=True)

    # ------------------------------------------------------------ outcomes

    def snooze(self, reminder_id: int, minutes: int) -> None:
        now = self.clock.now()

        def done(_new_id: int) -> None:
            self.handled.emit(reminder_id)
            self.messages.post(translate("Reminders", "%n 分钟后再提醒", None, minutes), "", "info")

        self.worker.submit(lambda store: reminders.snooze(store, reminder_id, minutes, now), done, self._error,
                           write=True)

    def outcome(self, buyer_id: int, kind: str, reminder_id: int | None = None) -> None:
        now = self.clock.now()
        texts = {"paid": translate("Reminders", "已标记为已付款，停止催单"),
                 "lost": translate("Reminders", "已标记为流失，停止催单"),
                 "replied": translate("Reminders", "已记录买家回复"),
                 "pause": translate("Reminders", "已暂停跟进"),
                 "resume": translate("Reminders", "已恢复跟进")}

        def done(_buyer: customers.Buyer) -> None:
            if reminder_id is not None:
                self.handled.emit(reminder_id)
            self.messages.post(texts.get(kind, kind), "", "success")

        self.worker.submit(lambda store: reminders.outcome(store, buyer_id, kind, now), done, self._error, write=True)

    def order_status(self, order_id: int, status: str, reminder_id: int | None = None) -> None:
        """An unpaid order was paid or closed: its 催付 stops (core/orders.py)."""
        now = self.clock.now()
        text = translate("Orders", "订单 {no} 已付款，催付已停止") if status == "paid" else \
            translate("Orders", "订单 {no} 已关闭，催付已停止")

        def done(order: orders.Order) -> None:
            if reminder_id is not None:
                self.handled.emit(reminder_id)
            self.messages.post(text.replace("{no}", order.order_masked), "", "success")

        self.worker.submit(lambda store: orders.set_status(store, f"#{order_id}", status, now), done, self._error,
                           write=True)

    def complete(self, reminder_id: int) -> None:
        now = self.clock.now()
        self.worker.submit(lambda store: reminders.complete(store, reminder_id, now),
                           lambda _r: self.handled.emit(reminder_id), self._error, write=True)

    def unstar(self, buyer_id: int) -> None:
        now = self.clock.now()
        self.worker.submit(lambda store: reminders.unstar(store, buyer_id, now),
                           lambda _b: self.messages.post(translate("Reminders", "已取消标星"), "", "info"),
                           self._error, write=True)

    # ------------------------------------------------------------ team mode: shared buyers

    def open_call_list(self, promotion_id: int | None) -> QDialog | None:
        """The promotion's phone list (a phone-list card's 电话名单), one window per promotion."""
        if promotion_id is None:
            return None
        from .call_list import CallListDialog

        dialog = self._call_lists.get(promotion_id)
        if dialog is None:
            dialog = self._call_lists[promotion_id] = CallListDialog(self.worker, promotion_id, self.clock)
        else:
            dialog.refresh()  # type: ignore[attr-defined]
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def holder_of(self, buyer_id: int, done: Callable[[str | None], None]) -> None:
        """done(name of the other agent following the buyer, or None) - always None without a team."""
        now = self.clock.now()
        # quiet on error: the proposal asked for the same buyer reports a problem once
        self.worker.submit(lambda store: team_queries.holder_of(store, buyer_id, now), done, lambda _exc: None)

    def take_over(self, buyer_id: int, reason: str = "") -> None:
        """Follow a buyer another agent holds: a logged take-over queued for the team server."""
        now = self.clock.now()

        def done(buyer: customers.Buyer) -> None:
            self.taken_over.emit(buyer.id)
            self.messages.post(translate("Reminders", "已接手“{nick}”，现在由你跟进").replace("{nick}", buyer.nickname),
                               "", "success")

        self.worker.submit(lambda store: customers.take_over(store, buyer_id, reason, now), done, self._error,
                           write=True)

    def offer_take_over(self, buyer_id: int, nickname: str, holder: str, parent: QWidget | None = None) -> QDialog:
        """Ask for the (optional) reason, then take over; returns the open dialog."""
        dialog = TakeOverDialog(holder, nickname, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.accepted.connect(lambda: self.take_over(buyer_id, dialog.reason_text()))
        self.take_over_dialog = dialog
        dialog.open()
        return dialog

    # ------------------------------------------------------------ hotkeys

    def star_nickname(self, nickname: str) -> None:
        """Star-selection hotkey: star this nickname with the default cadence, on the platform and
        shop of the last buyer starred (none yet: platform 'other', no shop)."""
        nick = (nickname or "").strip()
        if not nick:
            return
        now = self.clock.now()
        place = self.last_place

        def star(store: Any) -> tuple[customers.Buyer, bool]:
            platform, shop = place or _last_place(store)
            buyer = reminders.star(store, platform=platform, shop=shop, nickname=nick, now=now)
            # the shop keeps products and none is linked yet: the 客户 tab, whose 商品 chip links one
            unlinked = products.current(store, buyer.id) is None and any(
                p.shop in ("", buyer.shop) for p in products.list_products(store))
            return buyer, unlinked

        def done(result: tuple[customers.Buyer, bool]) -> None:
            buyer, unlinked = result
            self.last_place = (buyer.platform, buyer.shop)
            where = platform_name(buyer.platform) + (f" · {buyer.shop}" if buyer.shop else "")
            text = translate("Reminders", "已标星“{nick}”（{where}），开始跟进").replace("{nick}", buyer.nickname) \
                .replace("{where}", where)
            if unlinked:
                text += translate("Reminders", "。在“客户”页选择买家问的商品，催单就会讲这个商品")
                self.open_buyer.emit(buyer.id)  # shown, never activated: the chat client keeps the focus
            self.messages.post(text, "", "success")

        self.worker.submit(star, done, self._error, write=True)

    def aftersales_nickname(self, nickname: str) -> None:
        """After-sales hotkey: the buyer with this nickname (on the platform and shop of the last buyer
        starred, else any shop) gets their open case shown, or the form; an unknown nickname gets the
        form for a new buyer, starred with the case when it is saved (nothing is stored before)."""
        nick = (nickname or "").strip()
        if not nick:
            return
        place = self.last_place

        def find(store: Any) -> tuple[int | None, str, str]:
            platform, shop = place or _last_place(store)
            rows = store.query("SELECT id, platform, shop FROM buyers WHERE nickname = ? "
                               "ORDER BY (platform = ? AND shop = ?) DESC, starred_at IS NULL, "
                               "IFNULL(starred_at, created_at) DESC, id DESC LIMIT 1", (nick, platform, shop))
            if rows:
                return rows[0]["id"], rows[0]["platform"], rows[0]["shop"]
            return None, platform, shop

        def done(found: tuple[int | None, str, str]) -> None:
            buyer_id, platform, shop = found
            if buyer_id is not None:
                self.open_aftersales.emit(buyer_id)
            else:
                self.new_case_for.emit(nick, platform, shop)

        self.worker.submit(find, done, self._error)

    def followed_up(self, reminder_id: int, case_id: int) -> None:
        """An after-sales follow-up's 已跟进: the case's next follow-up is scheduled, the card goes."""
        from ...core import aftersales

        now = self.clock.now()

        def done(_case: Any) -> None:
            self.handled.emit(reminder_id)
            self.messages.post(translate("Reminders", "已记录跟进，下次跟进已安排"), "", "success")

        self.worker.submit(lambda store: aftersales.followed_up(store, case_id, now=now), done, self._error,
                           write=True)

    def next_chase(self, token: int) -> None:
        """Next-chase hotkey: the earliest reminder due now gets its proposed script pasted."""
        now = self.clock.now()

        def pick(store: Any) -> tuple[reminders.DueReminder, reminders.ChaseProposal] | None:
            for item in reminders.due(store, now, limit=50):
                # an after-sales follow-up is no chase: its card opens the case instead
                if item.buyer_id is not None and item.kind == "order" and item.order_id is not None:
                    return item, orders.propose(store, f"#{item.order_id}", now)
                if item.buyer_id is not None and item.kind not in ("phone", "aftersales"):
                    return item, reminders.propose(store, item.buyer_id, now)
            return None

        def done(found: tuple | None) -> None:
            if found is None:
                self.messages.post(translate("Reminders", "现在没有需要催单的买家"), "", "info")
                return
            item, proposal = found
            if proposal.blocked:
                self.messages.post(translate("Reminders", "“{nick}”还有未解答的问题，先回答再催单")
                                  .replace("{nick}", item.nickname or ""), "", "warning")
                return
            self.paste(item.buyer_id, item.nickname or "", proposal, item.id, token=token,
                       values=item.fill_values(proposal.values),
                       order_id=item.order_id if item.kind == "order" else None)

        self.worker.submit(pick, done, self._error)

    def _error(self, exc: KnownError) -> None:
        self.messages.post(exc.zh, exc.en, "warning")


def _last_place(store: Any) -> tuple[str, str]:
    rows = store.query("SELECT platform, shop FROM buyers WHERE starred_at IS NOT NULL ORDER BY starred_at DESC, id DESC LIMIT 1")
    return (rows[0]["platform"], rows[0]["shop"]) if rows else ("other", "")


# ================================================================ card and popup

class ReminderCard(QFrame):
    """One due reminder: buyer, marks, last chase, the proposed script, and the actions."""

    #: the proposed script arrived (the card's height changed)
    proposal_ready = Signal()

    def __init__(self, item: reminders.DueReminder, actions: ChaseActions, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReminderCard")
        self.item = item
        self.actions = actions
        self.clock = clock
        self.proposal: reminders.ChaseProposal | None = None
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(5)

        head = QHBoxLayout()
        head.setSpacing(6)
        self.title = QLabel(objectName="CardTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # nickname, platform and shop may not fit one line of a 360 px panel
        self.due_label = QLabel(objectName="CardDue")
        head.addWidget(self.title, 1)
        head.addWidget(self.due_label, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)
        self.meta = QLabel(objectName="CardMeta")
        self.meta.setWordWrap(True)
        self.meta.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.meta)
        self.script = QLabel(objectName="CardScript")
        self.script.setWordWrap(True)
        self.script.setTextFormat(Qt.TextFormat.RichText)
        self.script.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.script.linkActivated.connect(self.on_link)
        layout.addWidget(self.script)
        self.warning = QLabel(objectName="CardWarning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        layout.addWidget(self.warning)
        # team mode: another agent follows the buyer; a row of its own (the action row is full in English)
        self.held_row = QFrame(objectName="CardHeld")
        held_layout = QHBoxLayout(self.held_row)
        held_layout.setContentsMargins(6, 3, 3, 3)
        held_layout.setSpacing(6)
        self.held_label = QLabel()
        self.held_label.setWordWrap(True)
        self.take_over_button = self._button(None)
        self.take_over_button.clicked.connect(self.on_take_over)
        held_layout.addWidget(self.held_label, 1)
        held_layout.addWidget(self.take_over_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.held_row.hide()
        layout.addWidget(self.held_row)

        row = QHBoxLayout()
        row.setSpacing(3)
        self.paste_button = self._button("paste", primary=True)
        self.paste_button.clicked.connect(self.on_paste)
        self.override_button = self._button(None)
        self.override_button.clicked.connect(self.on_override)
        self.override_button.hide()
        self.snooze_button = self._button("clock")
        self.snooze_button.setCheckable(True)
        self.snooze_button.toggled.connect(lambda on: self.snooze_row.setVisible(on))
        self.paid_button = self._button("check")
        self.paid_button.clicked.connect(self.on_paid)
        self.lost_button = self._button(None)
        self.lost_button.setObjectName("Danger")
        self.lost_button.clicked.connect(self.on_lost)
        self.open_button = self._button("users")
        self.open_button.clicked.connect(lambda: self.actions.open_buyer.emit(self.item.buyer_id))
        self.done_button = self._button("check", primary=True)
        self.done_button.clicked.connect(lambda: self.actions.complete(self.item.id))
        # the promotion's phone list card: the list itself, worked call by call
        self.calls_button = self._button("users")
        self.calls_button.clicked.connect(lambda: self.actions.open_call_list(self.item.promotion_id))
        # After-sales: a follow-up card opens its case (and says 已跟进); a chase card can open a case for
        # the buyer when the chat turns into a complaint.
        self.case_button = self._button("lifebuoy", primary=item.kind == "aftersales")
        self.case_button.clicked.connect(self.on_case)
        self.followed_button = self._button("check")
        self.followed_button.clicked.connect(self.on_followed)
        if item.kind != "aftersales":
            # a chase card's row is full (in English already): the icon sits in the header, by the due time
            self.case_button.setFixedSize(26, 22)
            head.addWidget(self.case_button, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        for b in (self.paste_button, self.override_button, self.calls_button, self.done_button, self.case_button,
                  self.followed_button, self.snooze_button, self.paid_button, self.lost_button, self.open_button):
            if b is self.case_button and item.kind != "aftersales":
                continue
            row.addWidget(b, 0 if b is self.open_button else 2 if b in (self.paste_button, self.override_button,
                                                                        self.done_button, self.case_button) else 1)
        layout.addLayout(row)
        self.snooze_row = QWidget()
        snooze_layout = QHBoxLayout(self.snooze_row)
        snooze_layout.setContentsMargins(0, 0, 0, 0)
        snooze_layout.setSpacing(4)
        self.snooze_label = QLabel(objectName="Hint")
        snooze_layout.addWidget(self.snooze_label)
        self.snooze_buttons: dict[int, QPushButton] = {}
        for minutes in (5, 10, 30):
            b = self._button(None)
            b.clicked.connect(lambda _=False, m=minutes: self.actions.snooze(self.item.id, m))
            self.snooze_buttons[minutes] = b
            snooze_layout.addWidget(b, 1)
        self.snooze_row.hide()
        layout.addWidget(self.snooze_row)
        phone = item.kind == "phone"
        followup = item.kind == "aftersales"
        self.case: Any = None  # aftersales.Case of a follow-up card, once read
        of_buyer = not phone and item.buyer_id is not None
        for b in (self.paste_button, self.paid_button, self.lost_button):
            b.setVisible(of_buyer and not followup)  # a follow-up is no sales chase
        for b in (self.open_button, self.case_button):
            b.setVisible(of_buyer)
        self.followed_button.setVisible(followup)
        self.done_button.setVisible(phone or item.buyer_id is None)
        self.calls_button.setVisible(phone and item.promotion_id is not None)
        self.paste_button.setEnabled(False)
        self.case_button.setEnabled(not followup)  # a follow-up's case is read first
        self.followed_button.setEnabled(False)
        self._override = False
        self.holder: str | None = None  # team mode: another agent following this buyer
        self._retranslate()
        self._recheck = QTimer(self)
        self._recheck.setInterval(RECHECK_MS)
        self._recheck.timeout.connect(self.recheck)
        if followup:
            self._load_case()
        elif item.buyer_id is not None and not phone:
            actions.propose(item.buyer_id, self.set_proposal, order_id=self.order_id)
            actions.holder_of(item.buyer_id, self.set_holder)
            actions.taken_over.connect(self._on_taken_over)
            # any write (a 交班 from the 交接 tab or `kefu team hand-over`, a sync that moved the buyer):
            # the holder now, not at the next recheck a minute later
            actions.worker.data_changed.connect(self._refresh_holder)
            self._recheck.start()

    @property
    def order_id(self) -> int | None:
        """The unpaid order this card chases (a 催付 card), else None."""
        return self.item.order_id if self.item.kind == "order" else None

    def on_paid(self) -> None:
        if self.order_id is not None:  # the order was paid: its 催付 stops, the buyer's outcome follows
            self.actions.order_status(self.order_id, "paid", self.item.id)
        else:
            self.actions.outcome(self.item.buyer_id, "paid", self.item.id)

    def on_lost(self) -> None:
        if self.order_id is not None:  # the platform closed the order unpaid
            self.actions.order_status(self.order_id, "closed", self.item.id)
        else:
            self.actions.outcome(self.item.buyer_id, "lost", self.item.id)

    def values(self) -> dict[str, str]:
        """The fill-in values of this card's script: the proposal's (read after the agent linked a
        product; a 催付's also the order's {订单号} {金额} {截止时间}) over the reminder's own."""
        return self.item.fill_values(self.proposal.values if self.proposal is not None else None)

    def _button(self, icon_name: str | None, primary: bool = False) -> QPushButton:
        b = QPushButton(objectName="Primary" if primary else "")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setAutoDefault(False)
        if icon_name:
            b.setIcon(icons.icon(icon_name, "#ffffff" if primary else style.ICON))
            b.setIconSize(QSize(14, 14))
        return b

    def _load_case(self) -> None:
        from ...core import aftersales

        rid = self.item.id
        self.actions.worker.submit(lambda store: aftersales.case_of_reminder(store, rid), self.set_case,
                                   self.actions._error)

    def set_case(self, case: Any) -> None:
        """The after-sales case of a follow-up card (None: the case is gone)."""
        self.case = case
        self.case_button.setEnabled(case is not None)
        self.followed_button.setEnabled(case is not None and case.open)
        self._retranslate()
        self.proposal_ready.emit()  # the card's height changed

    def on_case(self) -> None:
        if self.item.kind == "aftersales":
            if self.case is not None:
                self.actions.open_case.emit(self.case.id)
        elif self.item.buyer_id is not None:
            self.actions.open_aftersales.emit(self.item.buyer_id)

    def on_followed(self) -> None:
        if self.case is not None:
            self.actions.followed_up(self.item.id, self.case.id)

    def set_proposal(self, proposal: reminders.ChaseProposal) -> None:
        if not shiboken6.isValid(self.title):
            return  # the card was closed while the worker read it (a write re-proposes every generic card)
        self.proposal = proposal
        self._retranslate()
        self.proposal_ready.emit()

    def set_holder(self, name: str | None) -> None:
        """Team mode: another agent follows this buyer (until the next sync closes the reminder):
        the chase waits for a take-over."""
        if name == self.holder:
            return
        self.holder = name
        self._retranslate()
        self.proposal_ready.emit()  # the card's height changed

    def _refresh_holder(self) -> None:
        if self.isVisible() and self.item.buyer_id is not None:
            self.actions.holder_of(self.item.buyer_id, self.set_holder)
            if self.proposal is not None and self.proposal.generic:
                # a product linked since (客户 tab): the specific script and its selling point now
                self.actions.propose(self.item.buyer_id, self.set_proposal, override=self._override)

    def _on_taken_over(self, buyer_id: int) -> None:
        if buyer_id == self.item.buyer_id:
            self.set_holder(None)

    def on_take_over(self) -> None:
        if self.holder and self.item.buyer_id is not None:
            self.actions.offer_take_over(self.item.buyer_id, self.item.nickname or "", self.holder, self.window())

    def log_ready(self) -> None:
        if self.paste_button.isVisible():
            # Ids and screen coordinates only: the e2e test clicks the button from outside.
            centre = self.paste_button.mapToGlobal(self.paste_button.rect().center())
            log.info("reminder %d ready in popup; paste button at %d,%d (enabled=%s)", self.item.id, centre.x(),
                     centre.y(), self.paste_button.isEnabled())

    def on_paste(self) -> None:
        log.info("paste chase clicked for reminder %d", self.item.id)
        if self.proposal is not None and self.item.buyer_id is not None:
            self.actions.paste(self.item.buyer_id, self.item.nickname or "", self.proposal, self.item.id,
                               values=self.values(), order_id=self.order_id)

    def on_link(self, href: str) -> None:
        """关联商品 on a generic script: the buyer in the 客户 tab, whose 商品 chip links one; the card
        proposes again when that write lands (data_changed)."""
        if href == "product" and self.item.buyer_id is not None:
            self.actions.open_buyer.emit(self.item.buyer_id)

    def on_override(self) -> None:
        if self.item.buyer_id is not None:
            self._override = True
            self.actions.propose(self.item.buyer_id, self.set_proposal, override=True, order_id=self.order_id)

    def recheck(self) -> None:
        """The proposal and its warnings as they are now (the agent's override kept)."""
        if self.isVisible() and self.item.buyer_id is not None and self.item.kind != "aftersales":
            self.actions.propose(self.item.buyer_id, self.set_proposal, override=self._override, order_id=self.order_id)
            self.actions.holder_of(self.item.buyer_id, self.set_holder)

    def _retranslate(self) -> None:
        item, now = self.item, self.clock.now()
        if item.kind == "phone":
            name = translate("Reminders", "大促电话名单：{name}").replace("{name}", item.promotion_name or "")
        else:
            name = item.nickname or ""
        badge = f' <span style="color:{style.TEXT_3}; font-weight:400;">{html.escape(platform_name(item.platform))}' \
                f'{(" · " + html.escape(item.shop)) if item.shop else ""}</span>' if item.platform else ""
        held = f" {tag_html(self.holder)}" if self.holder else ""
        self.title.setText(f'<b>{html.escape(name)}</b>{badge}{held}')
        late = item.late_seconds(now)
        self.due_label.setText(translate("Reminders", "晚了 {ago}").replace("{ago}", ago(item.due_at, now))
                               if late >= 60 else translate("Reminders", "到点"))
        self.due_label.setProperty("late", late >= 60)
        parts = []
        if item.marks:
            parts.append(chip_html(item.marks))
        cadence = i18n.pick(item.cadence_name, item.cadence_name_en or item.cadence_name)
        step = translate("Reminders", "{cadence} 第 {n}/{total} 次").replace("{cadence}", cadence) \
            .replace("{n}", str(item.step + 1)).replace("{total}", str(item.steps_total or "?"))
        if item.kind == "chase":
            parts.append(html.escape(step))
        elif item.kind == "order" and item.order_deadline is not None:
            # the order on a line of its own: which one, how much, how long before it closes
            parts.append("<br>" + title_html(item.order_masked or "", item.order_amount, item.order_deadline, now)
                         + "<br>" + html.escape(step))
        elif item.kind == "wave":
            parts.append(html.escape(translate("Reminders", "大促催付：{name}").replace("{name}", item.promotion_name or "")))
        elif item.kind == "aftersales":
            parts.append(html.escape(cadence))
        if item.kind == "aftersales":
            pass  # a follow-up is about the case, not the last sales chase
        elif item.last_chase_at:
            parts.append(html.escape(translate("Reminders", "上次：{title}，{ago}")
                                     .replace("{title}", item.last_chase_title or "—")
                                     .replace("{ago}", ago(item.last_chase_at, now))))
        elif item.kind != "phone":
            parts.append(html.escape(translate("Reminders", "还没有催过")))
        product = (self.proposal.values if self.proposal is not None else item.product_values).get("商品")
        if product and item.kind in ("chase", "wave"):
            parts.append(html.escape(translate("Reminders", "商品：{name}").replace("{name}", product)))
        self.meta.setText("  ".join(parts))
        self.paste_button.setText(translate("Reminders", "粘贴催单"))
        self.paste_button.setToolTip(translate("Reminders", "把建议的话术粘贴到聊天窗口，并记录这次催单"))
        self.override_button.setText(translate("Reminders", "仍要催单"))
        self.snooze_button.setText(translate("Reminders", "稍后"))
        self.paid_button.setText(translate("Reminders", "已付款"))
        self.lost_button.setText(translate("Reminders", "已关闭") if item.kind == "order" else translate("Reminders", "流失"))
        if item.kind == "order":
            self.paid_button.setToolTip(translate("Reminders", "订单已付款：停止这个订单的催付"))
            self.lost_button.setToolTip(translate("Reminders", "平台已关闭这个未付款订单：停止催付"))
        self.open_button.setToolTip(translate("Reminders", "打开：在“客户”页查看这位买家"))
        self.done_button.setText(translate("Reminders", "已处理"))
        self.calls_button.setText(translate("Reminders", "电话名单"))
        self.calls_button.setToolTip(translate("Reminders", "打开名单：逐个打电话并记下结果"))
        self.snooze_label.setText(translate("Reminders", "推迟"))
        for minutes, b in self.snooze_buttons.items():
            b.setText(translate("Reminders", "%n 分钟", None, minutes))
        # on a chase card an icon only, like 打开: the row is full (in English already without it)
        self.case_button.setText(translate("Reminders", "打开售后单") if item.kind == "aftersales" else "")
        self.case_button.setToolTip(translate("Reminders", "打开这位买家的售后单") if item.kind == "aftersales"
                                    else translate("Reminders", "买家要售后：打开或新开售后单（停止催单）"))
        self.followed_button.setText(translate("Reminders", "已跟进"))
        self.followed_button.setToolTip(translate("Reminders", "已跟进这张售后单：安排下一次跟进"))
        p = self.proposal
        if item.kind == "aftersales":
            self._case_text()
            self.warning.hide()
            self.override_button.hide()
            self.paste_button.hide()
            self.held_row.hide()
            return
        if item.kind == "phone":
            self.script.setText(html.escape(translate(
                "Reminders", "打电话给高客单、意向明显的标星买家（电话号码在“客户”页按需显示）。")))
        elif p is None:
            # translate() outside the f-strings: lupdate does not look inside them
            preparing = translate("Reminders", "正在准备话术…")
            self.script.setText(f'<span style="color:{style.TEXT_3};">{html.escape(preparing)}</span>')
        elif p.reply_body is None:
            none_left = translate("Reminders", "没有可用的新话术（所有角度都用过了）")
            self.script.setText(f'<span style="color:{style.TEXT_3};">{html.escape(none_left)}</span>')
        else:
            body = templates.render(p.reply_body, self.values()).text
            from ..widgets.widgets import body_html

            # 通用: nothing is known of this buyer's product, so the script is the generic one - adapt it
            generic = ""
            if getattr(p, "generic", False):
                tip = translate("Reminders", "没有关联商品：这是通用话术，发之前按买家的商品改一改")
                tag = translate("Reminders", "通用")
                generic = f' <span style="color:{style.WARN};" title="{html.escape(tip)}">· {html.escape(tag)}</span>'
                if item.buyer_id is not None:
                    # the popup never opens a menu (it would take the focus): the 客户 tab has the chooser
                    pick = translate("Reminders", "关联商品")
                    generic += f' <a href="product" style="color:{style.ACCENT};">{html.escape(pick)}</a>'
            self.script.setText(f'<span style="color:{style.TEXT_2}; font-size:11px;">'
                                f'{html.escape(angle_name(p.angle))} · {html.escape(p.reply_title or "")}</span>'
                                f'{generic}<br>{body_html(body)}')
        messages = p.messages("en" if i18n.is_english() else "zh") if p is not None else []
        self.warning.setText("\n".join("⚠ " + m for m in messages))
        self.warning.setVisible(bool(messages))
        self.warning.setProperty("blocked", bool(p and p.blocked))
        blocked = bool(p and p.blocked)
        self.override_button.setVisible(blocked and not self.holder)
        self.paste_button.setVisible((not blocked or bool(self.holder)) and item.kind != "phone"
                                     and item.buyer_id is not None)
        self.paste_button.setEnabled(p is not None and p.reply_id is not None and not blocked and not self.holder)
        if self.holder:
            self.paste_button.setToolTip(blocked_text(self.holder))
        self.held_row.setVisible(bool(self.holder) and item.kind != "phone")
        self.held_label.setText("⚠ " + blocked_text(self.holder) if self.holder else "")
        self.take_over_button.setText(translate("Reminders", "接手"))
        self.take_over_button.setToolTip(following_text(self.holder) if self.holder else "")
        for w in (self.due_label, self.warning):
            w.style().unpolish(w)
            w.style().polish(w)

    def _case_text(self) -> None:
        case = self.case
        if case is None:
            reading = translate("Reminders", "正在读取售后单…")
            self.script.setText(f'<span style="color:{style.TEXT_3};">{html.escape(reading)}</span>')
            return
        n = {k: v[:1].upper() + v[1:] for k, v in case.names("en" if i18n.is_english() else "zh").items()}
        head = translate("Reminders", "售后单 {ref} · {status} · 第 {step}/4 步").replace("{ref}", case.ref) \
            .replace("{status}", n["status"]).replace("{step}", str(case.step))
        self.script.setText(f'<span style="color:{style.TEXT_2}; font-size:11px;">{html.escape(head)} · '
                            f'{html.escape(n["mood"])}</span><br>{html.escape(case.problem[:160])}')

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


HELD_FG, HELD_BG = TAG_FG, TAG_BG
CARD_STYLE = f"""
#ReminderPopup {{ background: {style.BG}; border: 1px solid #cbd5e1; border-radius: 10px; }}
#PopupHeader {{ background: {style.SURFACE}; border-bottom: 1px solid {style.BORDER};
    border-top-left-radius: 10px; border-top-right-radius: 10px; }}
#PopupTitle {{ font-size: 14px; font-weight: 600; color: {style.TEXT}; }}
#ReminderCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 8px; }}
#CardTitle {{ font-size: 14px; }}
#CardDue {{ color: {style.ACCENT}; font-size: 12px; font-weight: 600; }}
#CardDue[late="true"] {{ color: {style.WARN}; }}
#CardMeta {{ color: {style.TEXT_2}; font-size: 12px; }}
#CardScript {{ background: {style.BG}; border: 1px solid {style.BORDER}; border-radius: 6px; padding: 6px;
    font-size: 13px; }}
#CardWarning {{ color: {style.WARN}; background: {style.WARN_BG}; border: 1px solid #fde68a; border-radius: 6px;
    padding: 4px 6px; font-size: 12px; }}
#CardHeld {{ background: {HELD_BG}; border: 1px solid #fde68a; border-radius: 6px; }}
#CardHeld QLabel {{ color: {HELD_FG}; font-size: 12px; }}
#CardWarning[blocked="true"] {{ color: {style.ERROR}; background: {style.ERROR_BG}; border-color: #fecaca; }}
#ReminderCard QPushButton {{ padding: 4px 6px; }}
#PopupScroll, #PopupList {{ background: transparent; border: none; }}
"""


class ReminderPopup(QWidget):
    """One popup for every reminder due: cards stacked in a scroll list; never takes focus."""

    def __init__(self, actions: ChaseActions, clock: Clock | None = None,
                 anchor: Callable[[], QRect | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setObjectName("ReminderPopup")
        self.setWindowTitle("催单提醒 - kefu-assistant")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setStyleSheet(CARD_STYLE)
        self.actions = actions
        self.clock: Clock = clock or actions.clock
        self.anchor = anchor
        self.sound = False
        self.cards: dict[int, ReminderCard] = {}
        self._missed_ids: set[int] = set()
        self.setFixedWidth(400)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(1, 1, 1, 1)
        outer.setSpacing(0)
        header = QFrame(objectName="PopupHeader")
        head = QHBoxLayout(header)
        head.setContentsMargins(10, 6, 4, 6)
        bell = QLabel()
        bell.setPixmap(icons.pixmap("bell", 18, style.ACCENT))
        self.title = QLabel(objectName="PopupTitle")
        self.close_button = QToolButton()
        self.close_button.setIcon(icons.icon("close"))
        self.close_button.setIconSize(QSize(14, 14))
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.dismiss)
        head.addWidget(bell)
        head.addWidget(self.title, 1)
        head.addWidget(self.close_button)
        outer.addWidget(header)
        self.scroll = QScrollArea(objectName="PopupScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list = QWidget(objectName="PopupList")
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(8, 8, 8, 8)
        self.list_layout.setSpacing(8)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(self.list)
        outer.addWidget(self.scroll, 1)
        self.more = QLabel(objectName="Hint")
        self.more.setContentsMargins(10, 0, 10, 6)
        self.more.hide()
        outer.addWidget(self.more)
        self._overflow = 0
        actions.handled.connect(self.remove)
        # Any write (a 交班, a sync that moved a buyer to another agent, `kefu outcome` from a shell):
        # drop the cards whose reminder is no longer pending here, so a reminder is on one screen only.
        self._prune_timer = QTimer(self, singleShot=True, interval=PRUNE_MS)
        self._prune_timer.timeout.connect(self.prune)
        actions.worker.data_changed.connect(self._prune_timer.start)
        self._retranslate()

    # ------------------------------------------------------------ content

    def prune(self) -> None:
        """Ask the store which shown reminders are still pending; remove the others."""
        asked = list(self.cards)
        if not asked:
            return
        self.actions.worker.submit(lambda store: reminders.still_pending(store, asked),
                                   lambda keep: self._pruned(asked, keep), lambda _exc: None,
                                   key="reminders.popup.prune")

    def _pruned(self, asked: list[int], keep: set[int]) -> None:
        gone = [rid for rid in asked if rid not in keep and rid in self.cards]
        for rid in gone:
            log.info("reminder %d closed elsewhere; card removed from the popup", rid)
            self.remove(rid)

    def add(self, items: list, missed: bool = False) -> None:
        """Reminders to show (from the scheduler's `due`); ones already shown are not added again."""
        new = 0
        for item in items:
            if item.id in self.cards:
                continue
            if len(self.cards) >= POPUP_MAX_CARDS:
                self._overflow += 1
                continue
            card = ReminderCard(item, self.actions, self.clock)
            card.proposal_ready.connect(lambda c=card: self._relayout(c))
            self.cards[item.id] = card
            if missed:
                self._missed_ids.add(item.id)
            self.list_layout.insertWidget(self.list_layout.count() - 1, card)
            new += 1
        if not self.cards:
            return
        self._retranslate()
        self._resize()
        if new and self.sound:
            QApplication.beep()
        self.show_near_anchor()

    def _relayout(self, card: ReminderCard) -> None:
        if not self.isVisible():
            return
        self._resize()
        self.show_near_anchor()
        QTimer.singleShot(0, card.log_ready)

    def remove(self, reminder_id: int) -> None:
        card = self.cards.pop(reminder_id, None)
        self._missed_ids.discard(reminder_id)
        if card is None:
            return
        self.list_layout.removeWidget(card)
        card.hide()
        card.deleteLater()
        if not self.cards:
            self.dismiss()
        else:
            self._retranslate()
            self._resize()

    def dismiss(self) -> None:
        """Close: the reminders stay pending and are listed in the 提醒 tab."""
        for card in self.cards.values():
            card.deleteLater()
        self.cards.clear()
        self._missed_ids.clear()
        self._overflow = 0
        self.hide()

    def count(self) -> int:
        return len(self.cards)

    # ------------------------------------------------------------ placement

    def _resize(self) -> None:
        self.list.adjustSize()
        # wrapped labels (a long warning, the "王五 跟进中" row) need their height at the popup's width,
        # which sizeHint does not know
        width = self.width() - 2
        content = (self.list_layout.heightForWidth(width) if self.list_layout.hasHeightForWidth() else -1)
        wanted = max(content, self.list.sizeHint().height()) + 48 + (20 if self._overflow else 0)
        screen = self.screen().availableGeometry() if self.screen() else QRect(0, 0, 1280, 800)
        self.resize(self.width(), max(160, min(wanted, int(screen.height() * 0.7))))

    def show_near_anchor(self) -> None:
        screen_obj = QGuiApplication.primaryScreen()
        screen = screen_obj.availableGeometry() if screen_obj else QRect(0, 0, 1280, 800)
        panel = self.anchor() if self.anchor else None
        margin = 12
        if panel is not None and panel.isValid():
            x = panel.left() - self.width() - 8
            if x < screen.left():
                x = min(panel.right() + 8, screen.right() - self.width())
            y = panel.bottom() - self.height() - margin
        else:
            x = screen.right() - self.width() - margin
            y = screen.bottom() - self.height() - margin
        self.move(QPoint(max(screen.left(), x), max(screen.top(), y)))
        if not self.isVisible():
            self.show()
        self.raise_()  # never activateWindow(): the chat client keeps the focus

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        n = len(self.cards) + self._overflow
        if self._missed_ids and len(self._missed_ids) == len(self.cards):
            self.title.setText(translate("Reminders", "错过的催单提醒（%n）", None, n))
        elif self.cards and all(c.item.kind == "aftersales" for c in self.cards.values()):
            self.title.setText(translate("Reminders", "该跟进售后了（%n）", None, n))  # no chase among them
        else:
            self.title.setText(translate("Reminders", "该催单了（%n）", None, n))
        self.close_button.setToolTip(translate("Reminders", "关闭（提醒保留在“提醒”页）"))
        self.more.setText(translate("Reminders", "还有 %n 条，请在“提醒”页查看", None, self._overflow))
        self.more.setVisible(self._overflow > 0)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
