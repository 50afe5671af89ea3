"""电话名单 (the promotion's T−3h phone list, worked in the panel): who to call, with their local time
and how their calls went; one click per call (接通 / 未接 / 改约 / 不需要) and 勿扰 for good; the SMS to
send everyone first (the seeds: text everyone, then call until they answer).

Phone numbers are shown in full here (this list exists to be phoned); opening it records in the work
log that they were shown, never the numbers (core/reminders.phone_list(reveal=True))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import reminders, templates
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n
from .promotions_dialog import from_qdatetime, to_qdatetime

translate = QCoreApplication.translate
ROLE = Qt.ItemDataRole.UserRole + 1
SMS_GROUP_WORD = "短信"  # a library group holding the shop's own promotion SMS


@dataclass
class Loaded:
    promotion: reminders.PromotionInfo
    entries: list[reminders.PhoneEntry]
    tz: Any
    sms: str  # the shop's SMS script (a 短信 group's first reply), "" for the built-in one


def load(store: Any, promotion_id: int, now: datetime, reveal: bool = True) -> Loaded:
    promo = reminders.get_promotion(store, promotion_id)
    rows = store.query("SELECT r.body FROM replies r JOIN groups g ON g.id = r.group_id "
                       "WHERE g.name LIKE ? ORDER BY r.position, r.id LIMIT 1", (f"%{SMS_GROUP_WORD}%",))
    return Loaded(promo, reminders.phone_list(store, promo.id, now, reveal=reveal),
                  reminders.get_config(store).agent_tz, rows[0]["body"] if rows else "")


class CallListDialog(QDialog):
    def __init__(self, worker: StoreWorker, promotion_id: int, clock: Clock | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallListDialog")
        self.worker = worker
        self.promotion_id = promotion_id
        self.clock: Clock = clock or SystemClock()
        self.data: Loaded | None = None
        self._revealed = False  # the numbers were shown (logged once per window, not per click)
        layout = QVBoxLayout(self)
        sms_row = QHBoxLayout()
        self.sms_hint = QLabel(objectName="Hint")
        self.sms_hint.setWordWrap(True)
        self.sms_button = QPushButton()
        self.sms_button.clicked.connect(self.copy_sms)
        sms_row.addWidget(self.sms_hint, 1)
        sms_row.addWidget(self.sms_button)
        layout.addLayout(sms_row)
        self.list = QListWidget(objectName="ResultList")
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.list, 1)
        self.empty = QLabel(objectName="Hint")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        self.outcome_buttons: dict[str, QPushButton] = {}
        for code in ("answered", "no_answer", "rescheduled", "not_needed"):
            b = QPushButton(objectName="Primary" if code == "answered" else "")
            b.clicked.connect(lambda _=False, c=code: self.record(c))
            self.outcome_buttons[code] = b
            row.addWidget(b)
        layout.addLayout(row)
        later = QHBoxLayout()
        self.later_label = QLabel()
        self.later_at = QDateTimeEdit()
        self.later_at.setDisplayFormat("MM-dd HH:mm")
        self.dnc_button = QPushButton(objectName="Danger")
        self.dnc_button.clicked.connect(self.do_not_call)
        later.addWidget(self.later_label)
        later.addWidget(self.later_at, 1)
        later.addWidget(self.dnc_button)
        layout.addLayout(later)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.resize(440, 560)
        self._retranslate()
        self.refresh()

    # ------------------------------------------------------------ data

    def refresh(self) -> None:
        now, pid, reveal = self.clock.now(), self.promotion_id, not self._revealed
        self._revealed = True
        self.worker.submit(lambda store: load(store, pid, now, reveal), self._on_loaded, self._show_error,
                           key=f"calls.{pid}")

    def _on_loaded(self, data: Loaded) -> None:
        self.data = data
        keep = self.current()
        self.list.clear()
        two_lines = self.list.fontMetrics().lineSpacing() * 2 + 10
        for e in data.entries:
            item = QListWidgetItem(self._line(e, data.tz))
            item.setData(ROLE, e)
            item.setSizeHint(QSize(0, two_lines))
            self.list.addItem(item)
            if keep is not None and e.buyer_id == keep.buyer_id:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.empty.setVisible(not data.entries)
        self.setWindowTitle(translate("Calls", "电话名单：{name}").replace("{name}", data.promotion.name))
        self.later_at.setDateTime(to_qdatetime(self.clock.now() + timedelta(minutes=30), data.tz))
        self._update_buttons()

    def _line(self, e: reminders.PhoneEntry, tz: Any) -> str:
        status = {"to_call": translate("Calls", "待打"), "retry": translate("Calls", "再打一次"),
                  "later": translate("Calls", "稍后"), "done": translate("Calls", "已完成")}[e.status]
        if e.status == "later" and e.retry_at:
            status += " " + e.retry_at.astimezone(tz).strftime("%H:%M")
        if e.night and e.status != "done":
            status += " · " + translate("Calls", "对方夜间，先别打")
        local = e.local_time.strftime("%H:%M") if e.local_time else "—"
        phone = e.phone or translate("Calls", "（没有电话）")
        head = f"{e.nickname}  {phone}"
        return head + "\n" + translate("Calls", "当地 {time} · {status} · {marks}").replace("{time}", local) \
            .replace("{status}", status).replace("{marks}", "、".join(e.marks))

    def current(self) -> reminders.PhoneEntry | None:
        item = self.list.currentItem()
        return item.data(ROLE) if item is not None else None

    def _update_buttons(self) -> None:
        chosen = self.current() is not None
        for b in (*self.outcome_buttons.values(), self.dnc_button):
            b.setEnabled(chosen)

    # ------------------------------------------------------------ actions

    def chosen_later(self) -> datetime:
        return from_qdatetime(self.later_at.dateTime(), self.data.tz if self.data else None)

    def record(self, outcome: str) -> None:
        entry = self.current()
        if entry is None:
            return
        now, pid, at = self.clock.now(), self.promotion_id, self.chosen_later() if outcome == "rescheduled" else None
        self.error.hide()
        self.worker.submit(lambda store: reminders.record_call(store, pid, entry.buyer_id, outcome, at=at, now=now),
                           lambda _e: self.refresh(), self._show_error, write=True)

    def do_not_call(self) -> None:
        entry = self.current()
        if entry is None:
            return
        now = self.clock.now()
        self.worker.submit(lambda store: reminders.set_do_not_call(store, entry.buyer_id, True, now),
                           lambda _b: self.refresh(), self._show_error, write=True)

    def sms_text(self) -> str:
        """The SMS for everyone on the list: the shop's (a reply in a 短信 group: {活动}, and {截止时间} as
        the start), else the built-in one; {客户} is left for the SMS tool's mail merge."""
        data = self.data
        if data is None:
            return ""
        start = data.promotion.start_at.astimezone(data.tz).strftime("%m-%d %H:%M")
        if data.sms:
            return templates.render(data.sms, {"活动": data.promotion.name, "截止时间": start}).text
        return translate("Calls", "{客户}您好，{活动}将在{start}开始，您关注的商品有活动价，记得来看看哦～") \
            .replace("{活动}", data.promotion.name).replace("{start}", start)

    def copy_sms(self) -> None:
        QGuiApplication.clipboard().setText(self.sms_text())
        self.sms_hint.setText(translate("Calls", "短信已复制：先群发短信，再逐个打电话。"))

    def _show_error(self, exc: KnownError) -> None:
        self.error.setText(i18n.pick(exc.zh, exc.en))
        self.error.show()

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.sms_hint.setText(translate("Calls", "先给名单上的买家发短信，再逐个打电话，直到接通。"))
        self.sms_button.setText(translate("Calls", "复制短信"))
        self.empty.setText(translate("Calls", "名单是空的：没有同时标了“高客单”和“意向明显”的标星买家。"))
        names = {"answered": translate("Calls", "接通"), "no_answer": translate("Calls", "未接"),
                 "rescheduled": translate("Calls", "改约"), "not_needed": translate("Calls", "不需要")}
        for code, b in self.outcome_buttons.items():
            b.setText(names[code])
        self.outcome_buttons["no_answer"].setToolTip(translate("Calls", "过一会儿再打（设置里的分钟数）"))
        self.outcome_buttons["rescheduled"].setToolTip(translate("Calls", "按下面的时间再打"))
        self.later_label.setText(translate("Calls", "改约到"))
        self.dnc_button.setText(translate("Calls", "勿扰"))
        self.dnc_button.setToolTip(translate("Calls", "以后不再打电话、不再大促催付"))
        if self.data is not None:
            self._on_loaded(self.data)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
