"""售后 tab: the open (or closed) cases, the form to open one, and the case itself, as three pages.

Entry points land here through ChaseActions (ui/reminders/reminders.py), wired in app.py:
    open_case(case id)          a follow-up reminder's 打开售后单, a case in the 客户 tab
    open_aftersales(buyer id)   the 客户 tab's 售后 button, a chase card's 售后, the hotkey on a known
                                nickname: the buyer's open case (the oldest), else the form
    new_case_for(nick, platform, shop)
                                the hotkey on a nickname no buyer has: the form for a new buyer
Keyboard: ↑/↓ and Enter in the list, Ctrl+N a new case, Esc back to the list.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ...core import aftersales as af
from ...core import customers
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from .. import tabs
from ..widgets import icons, style
from ..widgets.widgets import paint_row_background
from .case_form import CaseForm, FormTarget, pick
from .case_view import CSS, STATUS_COLOURS, CaseView
from .limits_dialog import LimitsDialog

log = logging.getLogger(__name__)
translate = QCoreApplication.translate
CASE_ROLE = Qt.ItemDataRole.UserRole + 1
CASE_OBJECT_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_HEIGHT = 62
LIST_LIMIT = 300


class CaseDelegate(QStyledItemDelegate):
    """#12 nickname + status badge / category · severity · mood · step / the problem, elided."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        case: af.Case | None = index.data(CASE_OBJECT_ROLE)
        if case is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_row_background(painter, option, accent_inset=12)
        rect = option.rect
        left, right = rect.left() + 12, rect.right() - 10
        small = QFont(option.font)
        small.setPixelSize(11)
        title = QFont(option.font)
        title.setPixelSize(13)
        title.setWeight(QFont.Weight.DemiBold)
        fm_small = QFontMetrics(small)
        # line 1: number, nickname, status badge
        status = pick(af.STATUSES, case.status)
        fg, bg = STATUS_COLOURS.get(case.status, (style.TEXT_2, "#f1f5f9"))
        sw = fm_small.horizontalAdvance(status) + 12
        badge = QRect(right - sw, rect.top() + 6, sw, 17)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(QRectF(badge), 8, 8)
        painter.setFont(small)
        painter.setPen(QColor(fg))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, status)
        painter.setFont(title)
        painter.setPen(QColor(style.TEXT))
        name = QRect(left, rect.top() + 4, badge.left() - left - 6, 20)
        painter.drawText(name, Qt.AlignmentFlag.AlignVCenter, QFontMetrics(title).elidedText(
            f"{case.ref}  {case.nickname}", Qt.TextElideMode.ElideRight, name.width()))
        # line 2: category · severity · mood · step
        bits = [case.category, pick(af.SEVERITIES, case.severity), pick(af.MOODS, case.mood)]
        if case.open:
            bits.append(translate("Aftersales", "第 {n}/4 步").replace("{n}", str(case.step)))
        elif case.outcome:
            bits.append(pick(af.OUTCOMES, case.outcome))
        painter.setFont(small)
        painter.setPen(QColor(style.TEXT_2))
        line = QRect(left, rect.top() + 25, right - left, 16)
        painter.drawText(line, Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText("  ·  ".join(bits), Qt.TextElideMode.ElideRight, line.width()))
        # line 3: the problem in the buyer's words
        painter.setPen(QColor(style.TEXT_3))
        line = QRect(left, rect.top() + 42, right - left, 16)
        painter.drawText(line, Qt.AlignmentFlag.AlignVCenter, fm_small.elidedText(
            " ".join(case.problem.split()), Qt.TextElideMode.ElideRight, line.width()))
        painter.restore()


class AftersalesTab(QWidget):
    """The 售后 page."""

    #: (key, label) for Panel.add_tab
    TAB = tabs.AFTERSALES
    #: paste a library reply (reply id, fill-in values): app.py connects the paste flow's paste_reply
    paste_requested = Signal(int, dict)
    #: the page wants to be seen (app.py: show the tab and the panel, without taking focus)
    show_requested = Signal()

    def __init__(self, worker: StoreWorker, messages: MessageBridge | None = None, clock: Clock | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AftersalesTab")
        self.setStyleSheet(CSS)
        self.worker = worker
        self.messages = messages if messages is not None else MessageBridge(self)
        self.clock: Clock = clock or SystemClock()
        self.show_closed = False
        self.cases: list[af.Case] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages)

        # list page
        self.list_page = QWidget()
        lp = QVBoxLayout(self.list_page)
        lp.setContentsMargins(0, 0, 0, 0)
        lp.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(4)
        self.open_filter, self.closed_filter = QPushButton(objectName="Seg"), QPushButton(objectName="Seg")
        for b, pos in ((self.open_filter, "first"), (self.closed_filter, "last")):
            b.setCheckable(True)
            b.setProperty("pos", pos)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            head.addWidget(b)
        self.open_filter.setChecked(True)
        self.open_filter.clicked.connect(lambda: self._set_closed(False))
        self.closed_filter.clicked.connect(lambda: self._set_closed(True))
        head.addStretch(1)
        # the shop manager's limits, set here rather than with `kefu aftersales limits`
        self.limits_button = QPushButton(objectName="LinkButton")
        self.limits_button.setFlat(True)
        self.limits_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.limits_button.clicked.connect(self.open_limits)
        head.addWidget(self.limits_button)
        self.limits_dialog: LimitsDialog | None = None
        self.new_button = QPushButton(objectName="Primary")
        self.new_button.setIcon(icons.icon("plus", "#ffffff"))
        self.new_button.setIconSize(QSize(14, 14))
        self.new_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.new_button.clicked.connect(lambda: self.new_case())
        head.addWidget(self.new_button)
        lp.addLayout(head)
        # many cases on a busy day: narrow them by nickname, number, category or the buyer's words
        self.search = QLineEdit(objectName="SearchBox")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        lp.addWidget(self.search)
        self.list = QListWidget(objectName="ResultList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.setItemDelegate(CaseDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        lp.addWidget(self.list, 1)
        self.empty = QLabel(objectName="Hint")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lp.addWidget(self.empty)
        self.pages.addWidget(self.list_page)

        self.form = CaseForm(worker, self.clock)
        self.form.saved.connect(self._on_saved)
        self.form.cancelled.connect(self.show_list)
        self.pages.addWidget(self.form)
        self.view = CaseView(worker, self.messages, self.clock)
        self.view.back_requested.connect(self.show_list)
        self.view.paste_requested.connect(self.paste_requested)
        self.view.new_case_requested.connect(self.open_for_buyer_new)
        self.pages.addWidget(self.view)

        new = QShortcut(QKeySequence("Ctrl+N"), self.list_page)
        new.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new.activated.connect(lambda: self.new_case())
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        worker.data_changed.connect(self._refresh_timer.start)
        self._retranslate()
        self.refresh()

    def open_limits(self) -> LimitsDialog:
        if self.limits_dialog is None:
            self.limits_dialog = LimitsDialog(self.worker, self.window())
        else:
            self.limits_dialog.refresh()
        self.limits_dialog.show()
        self.limits_dialog.raise_()
        self.limits_dialog.activateWindow()
        return self.limits_dialog

    def set_paste_available(self, available: bool) -> None:
        self.view.paste_available = bool(available)

    # ------------------------------------------------------------ the list

    def _set_closed(self, closed: bool) -> None:
        self.show_closed = closed
        self.open_filter.setChecked(not closed)
        self.closed_filter.setChecked(closed)
        self._retranslate_empty()
        self.refresh()

    def refresh(self) -> None:
        status = "closed" if self.show_closed else "open"
        self.worker.submit(lambda store: af.list_cases(store, status=status, limit=LIST_LIMIT), self._on_cases,
                           self._on_error, key="aftersales.list")

    def _on_cases(self, cases: list[af.Case], force: bool = False) -> None:
        if cases == self.cases and self.list.count() == len(cases) and not force:
            return  # an unrelated write: the list, its selection and scroll stay as they are
        keep = self.list.currentItem().data(CASE_ROLE) if self.list.currentItem() else None
        self.cases = cases
        self.list.clear()
        for case in cases:
            n = {"status": pick(af.STATUSES, case.status), "severity": pick(af.SEVERITIES, case.severity),
                 "mood": pick(af.MOODS, case.mood)}
            item = QListWidgetItem()
            # what a screen reader says (and tests read); the row itself is painted by CaseDelegate
            item.setText(f"{case.ref}  {case.nickname}  ·  {n['status']}  ·  {case.category} · {n['severity']} · "
                         f"{n['mood']}")
            item.setData(CASE_ROLE, case.id)
            item.setData(CASE_OBJECT_ROLE, case)
            item.setToolTip(case.problem[:300])
            self.list.addItem(item)
            if case.id == keep:
                self.list.setCurrentItem(item)
        self.empty.setVisible(not cases)
        self._retranslate_empty()
        self._filter()

    def _filter(self) -> None:
        words = self.search.text().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            case: af.Case = item.data(CASE_OBJECT_ROLE)
            hay = f"{case.ref} {case.nickname} {case.category} {case.product} {case.problem}".casefold()
            item.setHidden(not all(w.casefold() in hay for w in words))

    def visible_cases(self) -> list[int]:
        return [self.list.item(i).data(CASE_ROLE) for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def _activated(self, item: QListWidgetItem) -> None:
        cid = item.data(CASE_ROLE)
        if cid is not None:
            self.show_case(cid)

    def _on_error(self, exc: KnownError) -> None:
        self.messages.post(exc.zh, exc.en, "warning")

    # ------------------------------------------------------------ pages

    def show_list(self) -> None:
        self.pages.setCurrentWidget(self.list_page)
        self.refresh()

    def show_case(self, case_id: int) -> None:
        log.info("after-sales case %d shown", int(case_id))  # ids only, never the buyer's text
        self.view.show_case(int(case_id))
        self.pages.setCurrentWidget(self.view)
        self.show_requested.emit()

    def current_page(self) -> str:
        return {self.list_page: "list", self.form: "form", self.view: "case"}[self.pages.currentWidget()]

    def new_case(self, target: FormTarget | None = None, buyer_label: str = "") -> None:
        """The form: for this buyer, or (no target) for a buyer typed in."""
        log.info("after-sales form shown for %s", f"buyer {target.buyer_id}" if target and target.buyer_id
                 else "a new buyer")
        self.form.start(target or FormTarget(None, "", "other", ""), buyer_label)
        self.pages.setCurrentWidget(self.form)
        self.show_requested.emit()

    def _on_saved(self, case: af.Case) -> None:
        self.messages.post(translate("Aftersales", "已开售后单 {ref}：不再催单，改为售后跟进").replace("{ref}", case.ref),
                           "", "success")
        self.show_case(case.id)

    # ------------------------------------------------------------ entry points

    def open_for_buyer(self, buyer_id: int) -> None:
        """The buyer's open case (the oldest still open), or the form to open one."""
        bid = int(buyer_id)

        def load(store: Any) -> tuple[customers.Buyer, list[af.Case]]:
            return customers.get_buyer(store, bid), af.list_cases(store, status="open", buyer_id=bid)

        def done(found: tuple[customers.Buyer, list[af.Case]]) -> None:
            buyer, cases = found
            if cases:
                self.show_case(cases[0].id)
            else:
                self._form_for(buyer)

        self.worker.submit(load, done, self._on_error)

    def open_for_buyer_new(self, buyer_id: int) -> None:
        """Another case for this buyer (one problem a case; a buyer can have several)."""
        bid = int(buyer_id)
        self.worker.submit(lambda store: customers.get_buyer(store, bid), self._form_for, self._on_error)

    def _form_for(self, buyer: customers.Buyer) -> None:
        from ..reminders.reminders import platform_name

        label = f"<b>{html.escape(buyer.nickname)}</b> <span style='color:{style.TEXT_3};'>" \
                f"{html.escape(platform_name(buyer.platform))}{(' · ' + html.escape(buyer.shop)) if buyer.shop else ''}" \
                f"</span>"
        self.new_case(FormTarget(buyer.id, buyer.nickname, buyer.platform, buyer.shop), label)

    def new_case_for(self, nickname: str, platform: str, shop: str) -> None:
        self.new_case(FormTarget(None, nickname, platform, shop))

    # ------------------------------------------------------------ language

    def _retranslate_empty(self) -> None:
        self.empty.setText(translate("Aftersales", "没有已结案的售后单") if self.show_closed else translate(
            "Aftersales", "没有未结的售后单。买家投诉时点“新售后单”，或在聊天窗口选中昵称后按售后快捷键。"))

    def _retranslate(self) -> None:
        self.open_filter.setText(translate("Aftersales", "未结"))
        self.closed_filter.setText(translate("Aftersales", "已结"))
        self.new_button.setText(translate("Aftersales", "新售后单"))
        self.limits_button.setText(translate("Aftersales", "挽单权限…"))
        self.limits_button.setToolTip(translate("Aftersales", "每位客服不用请示就能提出的补偿和方案"))
        self.new_button.setToolTip(translate("Aftersales", "为一位买家开售后单 (Ctrl+N)"))
        self.search.setPlaceholderText(translate("Aftersales", "搜索买家、单号或问题"))
        self._retranslate_empty()
        if self.cases:
            self._on_cases(self.cases, force=True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


__all__ = ["AftersalesTab", "CaseForm", "CaseView", "FormTarget", "pick"]
