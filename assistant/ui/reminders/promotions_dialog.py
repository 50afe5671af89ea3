"""大促 dialog (from the 提醒 tab): the promotions, new ones, and a start moved or a name changed.

Every change is one worker job (core/reminders.add_promotion / update_promotion / delete_promotion):
the phone list at T−3h and the payment wave from T−2h are planned (again) in the same transaction.
A supervisor in team mode may make it the shop's promotion, for every agent of the shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QEvent, QSize, Qt, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, reminders, settings
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n

translate = QCoreApplication.translate
ROLE = Qt.ItemDataRole.UserRole + 1
MINE = ""  # the shop box's "only me" choice


@dataclass
class Loaded:
    promotions: list[reminders.PromotionInfo]
    tz: Any
    shops: list[str]  # a supervisor's team shops (empty otherwise): a promotion may be the shop's


def load(store: Any) -> Loaded:
    tz = reminders.get_config(store).agent_tz
    supervisor = bool(customers.team_role(store)) and settings.get(store, "team.kind") == "supervisor"
    shops = [r["name"] for r in store.query("SELECT name FROM team_shops ORDER BY name")] if supervisor else []
    return Loaded(reminders.list_promotions(store), tz, shops)


def to_qdatetime(when: datetime, tz: Any) -> QDateTime:
    """An instant as the wall-clock time a date-time box shows in the agent's zone (tz None: local)."""
    local = when.astimezone(tz)
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


def from_qdatetime(qdt: QDateTime, tz: Any) -> datetime:
    """What a date-time box holds, read as wall-clock time in the agent's zone (tz None: local)."""
    naive = datetime(qdt.date().year(), qdt.date().month(), qdt.date().day(), qdt.time().hour(), qdt.time().minute())
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


class PromotionsDialog(QDialog):
    def __init__(self, worker: StoreWorker, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PromotionsDialog")
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.data: Loaded | None = None
        self.editing: int | None = None  # the promotion being changed, or None for a new one
        layout = QVBoxLayout(self)
        self.list = QListWidget(objectName="ResultList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.list, 1)
        self.empty = QLabel(objectName="Hint")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        self.new_button = QPushButton()
        self.new_button.clicked.connect(self.start_new)
        self.edit_button = QPushButton()
        self.edit_button.clicked.connect(self.start_edit)
        self.delete_button = QPushButton(objectName="Danger")
        self.delete_button.clicked.connect(self.delete_current)
        self.calls_button = QPushButton()
        self.calls_button.clicked.connect(self.open_calls)
        for b in (self.new_button, self.edit_button, self.delete_button, self.calls_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)

        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        form.setContentsMargins(0, 6, 0, 0)
        self.name = QLineEdit()
        self.name.setMaxLength(40)
        self.start = QDateTimeEdit()
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.shop = QComboBox()
        self.name_label, self.start_label, self.shop_label = QLabel(), QLabel(), QLabel()
        form.addRow(self.name_label, self.name)
        form.addRow(self.start_label, self.start)
        form.addRow(self.shop_label, self.shop)
        self.plan_hint = QLabel(objectName="Hint")
        self.plan_hint.setWordWrap(True)
        form.addRow(self.plan_hint)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addRow(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self._close_form)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.form_box.hide()
        layout.addWidget(self.form_box)
        self.resize(420, 460)
        self._retranslate()
        self.refresh()

    # ------------------------------------------------------------ data

    def refresh(self) -> None:
        self.worker.submit(load, self._on_loaded, self._show_error, key="promotions.dialog")

    def _on_loaded(self, data: Loaded) -> None:
        self.data = data
        keep = self.current_id()
        self.list.clear()
        for p in data.promotions:
            item = QListWidgetItem(self._line(p, data.tz))
            item.setData(ROLE, p.id)
            item.setSizeHint(QSize(0, self.list.fontMetrics().lineSpacing() * 2 + 12))  # name, then the plan
            self.list.addItem(item)
            if p.id == keep:
                self.list.setCurrentItem(item)
        self.empty.setVisible(not data.promotions)
        self.shop.clear()
        self.shop.addItem(translate("Promotions", "只给我自己"), MINE)
        for name in data.shops:
            self.shop.addItem(translate("Promotions", "店铺活动：{shop}（全店客服）").replace("{shop}", name), name)
        self.shop.setVisible(bool(data.shops))
        self.shop_label.setVisible(bool(data.shops))
        self._update_buttons()

    @staticmethod
    def _line(p: reminders.PromotionInfo, tz: Any) -> str:
        def at(when: datetime | None) -> str:
            return when.astimezone(tz).strftime("%m-%d %H:%M") if when else "—"

        return (translate("Promotions", "{name}\n开始 {start} · 电话名单 {phone} · 催付 {pending}/{total} 人")
                .replace("{name}", p.name).replace("{start}", at(p.start_at)).replace("{phone}", at(p.phone_at))
                .replace("{pending}", str(p.wave_pending)).replace("{total}", str(p.wave_total)))

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ROLE) if item is not None else None

    def _promotion(self, promo_id: int | None) -> reminders.PromotionInfo | None:
        return next((p for p in (self.data.promotions if self.data else []) if p.id == promo_id), None)

    def _update_buttons(self) -> None:
        chosen = self.current_id() is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        self.calls_button.setEnabled(chosen)

    # ------------------------------------------------------------ the form

    def _set_start(self, when: datetime) -> None:
        # shown and typed in the agent's time zone (reminders.agent_tz), like `kefu promo add --start`
        self.start.setDateTime(to_qdatetime(when, self.data.tz if self.data else None))

    def start_new(self) -> None:
        self.editing = None
        self.name.clear()
        # the next midnight a day ahead: promotions start at 00:00 (双十一) more often than not
        now = self.clock.now().astimezone(self.data.tz if self.data else None)
        self._set_start((now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0))
        self.shop.setEnabled(True)
        self._open_form()

    def start_edit(self) -> None:
        promo = self._promotion(self.current_id())
        if promo is None:
            return
        self.editing = promo.id
        self.name.setText(promo.name)
        self._set_start(promo.start_at)
        self.shop.setEnabled(False)  # a promotion stays the shop's or the agent's own
        self._open_form()

    def _open_form(self) -> None:
        self.error.hide()
        self._retranslate()
        self.form_box.show()
        self.name.setFocus()

    def _close_form(self) -> None:
        self.form_box.hide()
        self.editing = None

    def chosen_start(self) -> datetime:
        return from_qdatetime(self.start.dateTime(), self.data.tz if self.data else None)

    def save(self) -> None:
        name, start, now = self.name.text(), self.chosen_start(), self.clock.now()
        shop = self.shop.currentData() if self.data and self.data.shops else MINE
        editing = self.editing
        self.save_button.setEnabled(False)

        def write(store: Any) -> reminders.PromotionInfo:
            if editing is None:
                return reminders.add_promotion(store, name, start, now, team_shop=shop or None)
            return reminders.update_promotion(store, editing, name=name, start=start, now=now)

        def done(_promo: reminders.PromotionInfo) -> None:
            self.save_button.setEnabled(True)
            self._close_form()
            self.refresh()

        def failed(exc: KnownError) -> None:
            self.save_button.setEnabled(True)
            self._show_error(exc)

        self.worker.submit(write, done, failed, write=True)

    def open_calls(self) -> QDialog | None:
        """The chosen promotion's phone list, worked call by call."""
        promo_id = self.current_id()
        if promo_id is None:
            return None
        from .call_list import CallListDialog

        dialog = CallListDialog(self.worker, promo_id, self.clock, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def delete_current(self) -> None:
        promo_id = self.current_id()
        if promo_id is None:
            return
        self.worker.submit(lambda store: reminders.delete_promotion(store, promo_id), lambda _p: self.refresh(),
                           self._show_error, write=True)

    def _show_error(self, exc: KnownError) -> None:
        self.error.setText(i18n.pick(exc.zh, exc.en))
        self.error.show()
        if not self.form_box.isVisible():
            self.form_box.show()

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Promotions", "大促活动"))
        self.empty.setText(translate("Promotions", "还没有活动。新建一个：开始前 3 小时提醒打电话，前 2 小时依次催付。"))
        self.new_button.setText(translate("Promotions", "新建活动"))
        self.edit_button.setText(translate("Promotions", "修改…"))
        self.delete_button.setText(translate("Promotions", "删除"))
        self.calls_button.setText(translate("Promotions", "电话名单"))
        self.name_label.setText(translate("Promotions", "活动名称"))
        self.start_label.setText(translate("Promotions", "开始时间"))
        self.shop_label.setText(translate("Promotions", "给谁"))
        self.plan_hint.setText(translate("Promotions", "保存后：开始前 3 小时提醒电话名单，前 2 小时起按顺序催付标星买家。"
                                                       "修改开始时间会重新安排。"))
        self.cancel_button.setText(translate("Promotions", "取消"))
        self.save_button.setText(translate("Promotions", "保存修改") if self.editing is not None
                                 else translate("Promotions", "添加活动"))
        if self.data is not None:
            self._on_loaded(self.data)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
