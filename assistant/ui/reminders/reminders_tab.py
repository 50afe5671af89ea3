"""提醒 tab: reminders due now, in the next hour and later today, with the popup's actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core import reminders
from ...core.clock import Clock, SystemClock
from ...services.worker import StoreWorker
from .. import tabs
from ..team import queries as team_queries
from ..team.holder import blocked_text, following_text
from ..widgets import i18n, icons, style
from .promotions_dialog import PromotionsDialog
from .reminders import CARD_STYLE, ChaseActions, ReminderCard, clock_text, in_time, platform_name

translate = QCoreApplication.translate
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_MS = 60_000  # "in 5 minutes" texts age; the list is re-read once a minute while visible


def _end_of_today(now: Any) -> timedelta:
    local = now.astimezone()
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(timedelta(hours=1), midnight - local)


class RemindersTab(QWidget):
    #: (key, label) for Panel.add_tab
    TAB = tabs.REMINDERS

    def __init__(self, worker: StoreWorker, actions: ChaseActions, clock: Clock | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RemindersTab")
        self.setStyleSheet(CARD_STYLE)
        self.worker = worker
        self.actions = actions
        self.clock: Clock = clock or SystemClock()
        self.sections: dict[str, list[reminders.DueReminder]] = {"now": [], "hour": [], "today": []}
        self.card: ReminderCard | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        self.summary = QLabel(objectName="SectionTitle")
        head.addWidget(self.summary, 1)
        # promotions are planned here too, not only with `kefu promo add`
        self.promotions_button = QPushButton(objectName="LinkButton")
        self.promotions_button.setFlat(True)
        self.promotions_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.promotions_button.clicked.connect(self.open_promotions)
        head.addWidget(self.promotions_button)
        layout.addLayout(head)
        self.promotions_dialog: PromotionsDialog | None = None
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.list = QListWidget(objectName="ResultList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.setIconSize(QSize(14, 14))
        self.list.setSpacing(1)
        self.list.currentItemChanged.connect(self._on_current)
        self.splitter.addWidget(self.list)
        self.card_box = QWidget()
        self.card_layout = QVBoxLayout(self.card_box)
        self.card_layout.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel(objectName="Hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.card_layout.addWidget(self.hint)
        self.card_layout.addStretch(1)
        self.splitter.addWidget(self.card_box)
        self.splitter.setSizes([300, 300])
        layout.addWidget(self.splitter, 1)
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        self._tick = QTimer(self, interval=REFRESH_MS)
        self._tick.timeout.connect(self.refresh)
        worker.data_changed.connect(self._refresh_timer.start)
        actions.handled.connect(lambda _id: self._refresh_timer.start())
        self._retranslate()
        self.refresh()

    def refresh(self) -> None:
        now = self.clock.now()
        today = _end_of_today(now)

        def load(store: Any) -> dict[str, list]:
            due = reminders.due(store, now, limit=300)
            later = reminders.upcoming(store, now, today, limit=300)
            hour = [r for r in later if r.due_at <= now + timedelta(hours=1)]
            held = team_queries.holders_by_id(store, [r.buyer_id for r in due + later if r.buyer_id is not None], now)
            return {"now": due, "hour": hour, "today": [r for r in later if r.due_at > now + timedelta(hours=1)],
                    "held": held}

        self.worker.submit(load, self._on_loaded, key="reminders.tab")

    def _on_loaded(self, loaded: dict[str, Any]) -> None:
        held: dict[int, str] = loaded.pop("held", {})
        sections: dict[str, list] = loaded
        self.sections = sections
        keep = self.card.item.id if self.card is not None else None
        self.list.blockSignals(True)
        self.list.clear()
        now = self.clock.now()
        chosen = None
        titles = {"now": translate("RemindersTab", "现在该催"), "hour": translate("RemindersTab", "一小时内"),
                  "today": translate("RemindersTab", "今天稍后")}
        for key in ("now", "hour", "today"):
            items = sections.get(key, [])
            head = QListWidgetItem(f"{titles[key]}  ·  {len(items)}")
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            font = QFont(self.font())
            font.setWeight(QFont.Weight.DemiBold)
            font.setPixelSize(12)
            head.setFont(font)
            head.setForeground(QColor(style.ACCENT if key == "now" and items else style.TEXT_2))
            self.list.addItem(head)
            for r in items:
                who = r.nickname or translate("RemindersTab", "大促电话名单：{name}").replace("{name}",
                                                                                       r.promotion_name or "")
                where = platform_name(r.platform) if r.platform else ""
                when = clock_text(r.due_at, now) if key == "now" else in_time(r.due_at, now)
                marks = ("  [" + "、".join(r.marks) + "]") if r.marks else ""
                holder = held.get(r.buyer_id) if r.buyer_id is not None else None
                tag = f"  · {following_text(holder)}" if holder else ""
                kind = ""
                icon = "clock" if key != "now" else "bell"
                if r.kind == "aftersales":  # a case's follow-up, not a chase: said so, with the case's icon
                    kind = "  · " + i18n.pick(r.cadence_name, r.cadence_name_en or r.cadence_name)
                    icon = "lifebuoy"
                elif r.kind == "order":  # 催付 of an unpaid order: which one (masked)
                    kind = "  · " + translate("RemindersTab", "催付 {order}").replace("{order}", r.order_masked or "")
                row = QListWidgetItem(icons.icon(icon, style.WARN if key == "now" else style.TEXT_3),
                                      f"{when}   {who}  {where}{kind}{marks}{tag}")
                if holder:
                    row.setToolTip(blocked_text(holder))
                row.setData(ITEM_ROLE, r)
                row.setSizeHint(QSize(0, 28))
                self.list.addItem(row)
                if r.id == keep:
                    chosen = row
        self.list.blockSignals(False)
        total = sum(len(v) for v in sections.values())
        self.summary.setText(translate("RemindersTab", "现在 {now} 位 · 一小时内 {hour} 位 · 今天 {today} 位")
                             .replace("{now}", str(len(sections.get("now", []))))
                             .replace("{hour}", str(len(sections.get("hour", []))))
                             .replace("{today}", str(len(sections.get("today", [])))))
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        else:
            first = next((self.list.item(i) for i in range(self.list.count())
                          if self.list.item(i).data(ITEM_ROLE) is not None), None)
            if first is not None:
                self.list.setCurrentItem(first)
            else:
                self._set_card(None)
        self.hint.setVisible(total == 0)

    def _on_current(self, item: QListWidgetItem | None, _prev: Any = None) -> None:
        self._set_card(item.data(ITEM_ROLE) if item is not None else None)

    def _set_card(self, reminder: reminders.DueReminder | None) -> None:
        if self.card is not None:
            if reminder is not None and self.card.item.id == reminder.id:
                return
            self.card_layout.removeWidget(self.card)
            self.card.deleteLater()
            self.card = None
        if reminder is not None:
            self.card = ReminderCard(reminder, self.actions, self.clock)
            self.card_layout.insertWidget(0, self.card)
        self.hint.setVisible(reminder is None)

    def open_promotions(self) -> PromotionsDialog:
        if self.promotions_dialog is None:
            self.promotions_dialog = PromotionsDialog(self.worker, self.clock, self.window())
        else:
            self.promotions_dialog.refresh()
        self.promotions_dialog.show()
        self.promotions_dialog.raise_()
        self.promotions_dialog.activateWindow()
        return self.promotions_dialog

    def current_ids(self) -> dict[str, list[int]]:
        return {k: [r.id for r in v] for k, v in self.sections.items()}

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._tick.start()
        self.refresh()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._tick.stop()

    def _retranslate(self) -> None:
        self.hint.setText(translate("RemindersTab", "今天没有待催的买家。标星买家后，到点的催单会出现在这里。"))
        self.promotions_button.setText(translate("RemindersTab", "大促活动…"))
        self.promotions_button.setToolTip(translate("RemindersTab", "新建或修改大促：电话名单和催付波次"))
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
