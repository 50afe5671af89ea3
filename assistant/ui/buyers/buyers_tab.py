"""客户 tab: starred buyers with their marks, filters, search, notes, chase history and outcomes.

Every read and write is a StoreWorker job; phone numbers are masked in the list (the detail shows
the full number only after a click on 显示号码).
"""

from __future__ import annotations

import html
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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, invites, products, reminders
from ...core.clock import Clock, SystemClock
from ...services.worker import StoreWorker
from .. import tabs
from ..reminders.reminders import ChaseActions, ago, angle_name, clock_text, platform_name, state_name
from ..team import holder as holding
from ..team import queries as team_queries
from ..widgets import i18n, icons, style
from ..widgets.widgets import paint_row_background
from .orders_box import OrdersBox

translate = QCoreApplication.translate
BUYER_ROLE = Qt.ItemDataRole.UserRole + 1
HOLDER_ROLE = Qt.ItemDataRole.UserRole + 2  # team mode: the other agent following the buyer, or None
ROW_HEIGHT = 62
STATE_COLOURS = {"following": (style.ACCENT, style.ACCENT_SOFT), "paid": (style.OK, style.OK_BG),
                 "lost": (style.ERROR, style.ERROR_BG), "paused": (style.TEXT_2, "#f1f5f9")}


class BuyerDelegate(QStyledItemDelegate):
    """Nickname + state badge / mark chips / platform · shop · last chase · masked phone."""

    def __init__(self, clock: Clock, parent: Any = None) -> None:
        super().__init__(parent)
        self.clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        buyer: customers.Buyer | None = index.data(BUYER_ROLE)
        if buyer is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        paint_row_background(painter, option, accent_inset=12)
        base = QFont(option.font)
        title = QFont(base)
        title.setPixelSize(13)
        title.setWeight(QFont.Weight.DemiBold)
        small = QFont(base)
        small.setPixelSize(11)
        left, right = rect.left() + 12, rect.right() - 10
        # line 1: star, nickname, state badge
        star_colour = "#f59e0b" if buyer.starred else style.DISABLED
        painter.drawPixmap(QRect(left, rect.top() + 8, 14, 14), icons.pixmap("star", 14, star_colour))
        fm_small = QFontMetrics(small)
        state = state_name(buyer.state)
        fg, bg = STATE_COLOURS.get(buyer.state, (style.TEXT_2, "#f1f5f9"))
        sw = fm_small.horizontalAdvance(state) + 12
        badge = QRect(right - sw, rect.top() + 6, sw, 17)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(QRectF(badge), 8, 8)
        painter.setFont(small)
        painter.setPen(QColor(fg))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, state)
        name_end = badge.left() - 6
        holder: str | None = index.data(HOLDER_ROLE)
        if holder:  # team mode: another agent follows this buyer; the tag sits left of the state
            tag = holding.following_text(holder)
            tw = min(fm_small.horizontalAdvance(tag) + 12, max(40, (badge.left() - left) // 2))
            tag_rect = QRect(badge.left() - 4 - tw, badge.top(), tw, badge.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(holding.TAG_BG))
            painter.drawRoundedRect(QRectF(tag_rect), 8, 8)
            painter.setPen(QColor(holding.TAG_FG))
            painter.drawText(tag_rect, Qt.AlignmentFlag.AlignCenter,
                             fm_small.elidedText(tag, Qt.TextElideMode.ElideRight, tw - 8))
            name_end = tag_rect.left() - 6
        painter.setFont(title)
        painter.setPen(QColor(style.TEXT))
        name_rect = QRect(left + 20, rect.top() + 5, name_end - left - 20, 20)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(title).elidedText(buyer.nickname, Qt.TextElideMode.ElideRight, name_rect.width()))
        # line 2: mark chips
        x = left + 20
        y = rect.top() + 26
        painter.setFont(small)
        for mark in buyer.marks:
            w = fm_small.horizontalAdvance(mark) + 12
            if x + w > right:
                break
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(style.FIELD_BG))
            painter.drawRoundedRect(QRectF(x, y, w, 15), 7, 7)
            painter.setPen(QColor(style.FIELD_FG))
            painter.drawText(QRect(x, y, w, 15), Qt.AlignmentFlag.AlignCenter, mark)
            x += w + 4
        # line 3: platform · shop · last chase · phone
        now = self.clock.now()
        parts = [platform_name(buyer.platform) + (f" · {buyer.shop}" if buyer.shop else "")]
        if buyer.last_chase_at:
            parts.append(translate("Buyers", "催过 %n 次", None, buyer.chase_count) + " · "
                         + ago(customers.when(buyer.last_chase_at), now))
        if buyer.phone_masked:
            parts.append(buyer.phone_masked)
        if buyer.open_questions:
            parts.append(translate("Buyers", "有未答问题"))
        painter.setPen(QColor(style.TEXT_3))
        line = QRect(left + 20, rect.top() + 42, right - left - 20, 16)
        painter.drawText(line, Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText("  ·  ".join(parts), Qt.TextElideMode.ElideRight, line.width()))
        painter.restore()


class BuyersTab(QWidget):
    """The 客户 page."""
    #: (key, label) for Panel.add_tab
    TAB = tabs.BUYERS


    #: fill-in values for the chosen buyer ({客户}: nickname) — app.py hands them to panel.set_context
    context_changed = Signal(dict)
    #: invites.ReviewGuard of the chosen buyer (None: none chosen) — app.py hands it to the paste flow
    review_guard_changed = Signal(object)
    #: paste this review invite (reply id, fill-in values): the 邀评 button's menu -> flow.paste_reply
    invite_paste_requested = Signal(int, dict)

    def __init__(self, worker: StoreWorker, actions: ChaseActions, clock: Clock | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BuyersTab")
        self.worker = worker
        self.actions = actions
        self.clock: Clock = clock or SystemClock()
        self.buyer: customers.Buyer | None = None
        self.holder: str | None = None  # team mode: the other agent following self.buyer
        self._select_after: int | None = None
        self._phone_shown = False
        self._dialogs: list[QWidget] = []
        self._build()
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        worker.data_changed.connect(self._refresh_timer.start)
        actions.open_buyer.connect(self.open_buyer)
        self._retranslate()
        self.load_filters()
        self.refresh()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.search = QLineEdit(objectName="SearchBox")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._refresh_timer.start())
        self.star_button = QToolButton()
        self.star_button.setIcon(icons.icon("star", style.ACCENT))
        self.star_button.setIconSize(QSize(20, 20))
        self.star_button.setFixedSize(34, 34)
        self.star_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.star_button.clicked.connect(lambda: self.open_star_dialog())
        self.products_button = QToolButton()  # 商品资料: the products chases draw on (ui/products)
        self.products_button.setIcon(icons.icon("list", style.TEXT_2))
        self.products_button.setIconSize(QSize(20, 20))
        self.products_button.setFixedSize(34, 34)
        self.products_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.products_button.clicked.connect(lambda: self.open_products())
        row.addWidget(self.search, 1)
        row.addWidget(self.products_button)
        row.addWidget(self.star_button)
        layout.addLayout(row)
        # One row of four filters when they fit, else two rows of two (a 360 px panel in Chinese):
        # a filter cut to "全部标i" says nothing.
        self.filter_grid = QGridLayout()
        self.filter_grid.setSpacing(4)
        self._filter_columns = 0
        self.mark_filter, self.state_filter = QComboBox(), QComboBox()
        self.platform_filter, self.shop_filter = QComboBox(), QComboBox()
        for combo in self._filter_combos():
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            combo.setMinimumWidth(40)
            combo.currentIndexChanged.connect(lambda _i: self._refresh_timer.start())
        layout.addLayout(self.filter_grid)
        self._arrange_filters()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.list = QListWidget(objectName="ResultList")
        self.list.setItemDelegate(BuyerDelegate(self.clock, self.list))
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.currentItemChanged.connect(self._on_current)
        self.empty = QLabel(objectName="Hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        list_box = QWidget()
        lb = QVBoxLayout(list_box)
        lb.setContentsMargins(0, 0, 0, 0)
        lb.addWidget(self.list, 1)
        lb.addWidget(self.empty)
        self.splitter.addWidget(list_box)
        self.splitter.addWidget(self._build_detail())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([300, 340])
        layout.addWidget(self.splitter, 1)

    def _build_detail(self) -> QWidget:
        self.detail = QFrame(objectName="Preview")
        d = QVBoxLayout(self.detail)
        d.setContentsMargins(8, 6, 8, 8)
        d.setSpacing(5)
        head = QHBoxLayout()
        self.name_label = QLabel(objectName="CardTitle")
        self.name_label.setTextFormat(Qt.TextFormat.RichText)
        self.phone_button = QPushButton()
        self.phone_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.phone_button.clicked.connect(self.reveal_phone)
        self.holder_tag = holding.tag_label()
        head.addWidget(self.name_label, 1)
        head.addWidget(self.holder_tag, 0, Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.phone_button)
        d.addLayout(head)
        self.info_label = QLabel(objectName="CardMeta")
        self.info_label.setWordWrap(True)
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        d.addWidget(self.info_label)
        # The product the buyer asked about: {商品} {卖点} {材质} {尺码} fill from it (core/products.py).
        self.product_button = QPushButton(objectName="Chip")
        self.product_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.product_menu: QMenu | None = None
        d.addWidget(self.product_button, 0, Qt.AlignmentFlag.AlignLeft)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.chase_button = QPushButton(objectName="Primary")
        self.chase_button.setIcon(icons.icon("paste", "#ffffff"))
        self.chase_button.clicked.connect(self.chase_now)
        self.replied_button, self.paid_button, self.lost_button = QPushButton(), QPushButton(), QPushButton()
        self.lost_button.setObjectName("Danger")
        self.pause_button, self.unstar_button = QPushButton(), QPushButton()
        self.replied_button.clicked.connect(lambda: self._outcome("replied"))
        self.paid_button.clicked.connect(lambda: self._outcome("paid"))
        self.lost_button.clicked.connect(lambda: self._outcome("lost"))
        self.pause_button.clicked.connect(
            lambda: self._outcome("resume" if self.buyer and self.buyer.state != "following" else "pause"))
        self.unstar_button.clicked.connect(self._toggle_star)
        self.take_over_button = QPushButton()
        self.take_over_button.clicked.connect(self.take_over)
        self.take_over_button.hide()
        for b in (self.take_over_button, self.chase_button, self.replied_button, self.paid_button, self.lost_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(b, 2 if b is self.chase_button else 1)
        d.addLayout(buttons)
        more = QHBoxLayout()
        more.setSpacing(4)
        self.invite_button = QPushButton()
        self.invite_button.setEnabled(False)
        self.invite_button.clicked.connect(self.offer_invites)
        # 售后: the buyer's open case, or the form to open one (ui/aftersales, through ChaseActions)
        self.case_button = QPushButton()
        self.case_button.setIcon(icons.icon("lifebuoy"))
        self.case_button.clicked.connect(self.open_aftersales)
        self.case_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for b in (self.pause_button, self.unstar_button, self.invite_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            more.addWidget(b, 1)
        d.addLayout(more)
        # the buyer's open after-sales cases, each a link to the case, beside the 售后 button
        cases_row = QHBoxLayout()
        cases_row.setSpacing(4)
        self.cases_label = QLabel(objectName="CardMeta")
        self.cases_label.setWordWrap(True)
        self.cases_label.setTextFormat(Qt.TextFormat.RichText)
        self.cases_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.cases_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cases_label.linkActivated.connect(lambda link: self.actions.open_case.emit(int(link)))
        self.cases_label.hide()
        self.open_cases: list = []
        cases_row.addWidget(self.cases_label, 1)
        cases_row.addStretch(0)
        cases_row.addWidget(self.case_button, 0, Qt.AlignmentFlag.AlignTop)
        d.addLayout(cases_row)
        # The buyer's unpaid orders (催付): add, paste the order text, paid / closed, import a file.
        self.orders_box = OrdersBox(self.worker, self.clock, self.actions.messages)
        d.addWidget(self.orders_box)
        # The buyer's mood in one click, and 邀评 (review invite) offered only when it fits.
        mood_row = QHBoxLayout()
        mood_row.setSpacing(3)
        self.mood_buttons: dict[str, QToolButton] = {}
        for code in invites.MOODS:
            b = QToolButton(objectName="Mood")
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda checked, c=code: self._set_mood(c if checked else None))
            self.mood_buttons[code] = b
            mood_row.addWidget(b)
        mood_row.addStretch(1)
        d.addLayout(mood_row)
        self.invite_reason = QLabel(objectName="Hint")
        self.invite_reason.setWordWrap(True)
        d.addWidget(self.invite_reason)
        self.guard: invites.ReviewGuard | None = None
        self.invite_menu: QMenu | None = None  # the last one shown (tests read it)
        self.notes_title = QLabel(objectName="SectionTitle")
        d.addWidget(self.notes_title)
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(62)
        self.notes.textChanged.connect(lambda: self.save_notes_button.setEnabled(
            self.buyer is not None and self.notes.toPlainText() != self.buyer.notes))
        d.addWidget(self.notes)
        self.save_notes_button = QPushButton()
        self.save_notes_button.setEnabled(False)
        self.save_notes_button.clicked.connect(self.save_notes)
        d.addWidget(self.save_notes_button, 0, Qt.AlignmentFlag.AlignRight)
        self.history_title = QLabel(objectName="SectionTitle")
        d.addWidget(self.history_title)
        self.history = QListWidget(objectName="HistoryList")
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history.setMaximumHeight(96)
        d.addWidget(self.history)
        self.detail.setEnabled(False)
        return self.detail

    def _filter_combos(self) -> tuple[QComboBox, ...]:
        return (self.mark_filter, self.state_filter, self.platform_filter, self.shop_filter)

    def _filter_width(self, combo: QComboBox) -> int:
        """Width the combo needs to show its first entry ("全部标记", "Marks") in full."""
        text = combo.itemText(0) or combo.currentText()
        return combo.fontMetrics().horizontalAdvance(text) + 44  # padding, frame and the arrow

    def _arrange_filters(self) -> None:
        combos = self._filter_combos()
        needed = sum(self._filter_width(c) for c in combos) + 4 * (len(combos) - 1)
        columns = 4 if self.width() >= needed else 2
        if columns == self._filter_columns:
            return
        self._filter_columns = columns
        for combo in combos:
            self.filter_grid.removeWidget(combo)
        for n, combo in enumerate(combos):
            self.filter_grid.addWidget(combo, n // columns, n % columns)
        for column in range(4):
            self.filter_grid.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - QResizeEvent
        super().resizeEvent(event)
        self._arrange_filters()

    # ------------------------------------------------------------ data

    def load_filters(self) -> None:
        def got(data: tuple[list, list]) -> None:
            marks, shops = data
            keep = (self.mark_filter.currentData(), self.shop_filter.currentData())
            for combo in (self.mark_filter, self.shop_filter):
                combo.blockSignals(True)
                combo.clear()
            self.mark_filter.addItem(translate("Buyers", "全部标记"), None)
            for m in marks:
                self.mark_filter.addItem(m.name, str(m.id))
            self.shop_filter.addItem(translate("Buyers", "全部店铺"), None)
            for s in shops:
                self.shop_filter.addItem(s, s)
            for combo, value in zip((self.mark_filter, self.shop_filter), keep, strict=True):
                combo.setCurrentIndex(max(0, combo.findData(value)))
                combo.blockSignals(False)
            self._filter_columns = 0
            self._arrange_filters()

        self.worker.submit(lambda store: (customers.list_marks(store), customers.shops(store)), got,
                           key="buyers.filters")

    def filters(self) -> dict[str, Any]:
        return {"mark": self.mark_filter.currentData(), "state": self.state_filter.currentData(),
                "platform": self.platform_filter.currentData(), "shop": self.shop_filter.currentData(),
                "text": self.search.text().strip() or None}

    def refresh(self) -> None:
        flt = self.filters()
        now = self.clock.now()

        def load(store: Any) -> tuple[list[customers.Buyer], dict[int, str]]:
            buyers = customers.list_buyers(store, limit=500, **flt)
            return buyers, team_queries.holders(store, buyers, now)

        self.worker.submit(load, self._on_buyers, key="buyers.list")
        if self.shop_filter.count() <= 1:
            self.load_filters()

    def _on_buyers(self, loaded: tuple[list[customers.Buyer], dict[int, str]]) -> None:
        buyers, held = loaded
        keep = self._select_after or (self.buyer.id if self.buyer else None)
        self._select_after = None
        self.list.blockSignals(True)
        self.list.clear()
        chosen = None
        for b in buyers:
            item = QListWidgetItem()
            item.setData(BUYER_ROLE, b)
            item.setData(HOLDER_ROLE, held.get(b.id))
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         b.nickname + (f" ({holding.following_text(held[b.id])})" if b.id in held else ""))
            self.list.addItem(item)
            if b.id == keep:
                chosen = item
        self.list.blockSignals(False)
        self.empty.setVisible(not buyers)
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        elif buyers:
            self.list.setCurrentRow(0)
        else:
            self._show(None)

    def nicknames(self) -> list[str]:
        return [self.list.item(i).data(BUYER_ROLE).nickname for i in range(self.list.count())]

    def _on_current(self, item: QListWidgetItem | None, _prev: Any = None) -> None:
        buyer = item.data(BUYER_ROLE) if item is not None else None
        if buyer is not None and self.buyer is not None and buyer.id != self.buyer.id:
            self._phone_shown = False
        self.holder = item.data(HOLDER_ROLE) if item is not None else None
        self._show(buyer)
        if buyer is not None:
            self.context_changed.emit({"客户": buyer.nickname})
            self._load_products(buyer.id)
            self._load_history(buyer.id)
            self._load_guard(buyer.id)
        else:
            self._on_guard(None)

    def _load_guard(self, bid: int) -> None:
        """May this buyer be invited to review? Asked on every change (mood, marks, state, library)."""
        self.worker.submit(lambda store: invites.guard(store, bid), self._on_guard, key="buyers.guard")

    def _on_guard(self, guard: invites.ReviewGuard | None) -> None:
        if guard is not None and (self.buyer is None or guard.buyer_id != self.buyer.id):
            return  # an answer for a buyer no longer chosen
        self.guard = guard
        self.review_guard_changed.emit(guard)
        self._show_invite()

    def _show_invite(self) -> None:
        guard = self.guard
        allowed = guard is not None and guard.verdict.allowed and bool(guard.reply_ids)
        self.invite_button.setEnabled(allowed)
        if guard is None:
            self.invite_reason.setText("")
            self.invite_button.setToolTip("")
            return
        reason = i18n.pick(guard.verdict.zh, guard.verdict.en)
        if guard.verdict.allowed and not guard.reply_ids:
            reason = translate("Buyers", "没有邀评话术：把话术放进名称含“邀评”的分组")
        self.invite_button.setToolTip(reason)
        self.invite_reason.setText("" if allowed else reason)

    def _set_mood(self, code: str | None) -> None:
        buyer = self.buyer
        if buyer is None:
            return
        self.worker.submit(lambda store: invites.set_mood(store, buyer.id, code), on_error=self.actions._error,
                           write=True)

    def offer_invites(self) -> None:
        """邀评: the review-invite scripts in a menu; the chosen one is pasted for this buyer."""
        buyer = self.buyer
        if buyer is None or self.guard is None or not self.guard.verdict.allowed:
            return

        def got(items: list[dict]) -> None:
            menu = QMenu(self)
            for item in items:
                action = menu.addAction(item["title"] or str(item["id"]))
                action.triggered.connect(lambda _c=False, rid=item["id"]: self.invite_paste_requested.emit(
                    rid, {"客户": buyer.nickname}))
            self.invite_menu = menu
            menu.popup(self.invite_button.mapToGlobal(self.invite_button.rect().bottomLeft()))

        self.worker.submit(invites.invite_replies, got)

    def _load_products(self, bid: int) -> None:
        now = self.clock.now()
        self.worker.submit(lambda store: (bid, products.links(store, bid), products.list_products(store),
                                          products.fill_values(store, bid, now)),
                           self._on_products, key="buyers.products")

    def _on_products(self, data: tuple) -> None:
        bid, linked, every, values = data
        if self.buyer is None or self.buyer.id != bid:
            return
        current = linked[0].product if linked else None
        self.product_button.setText(translate("Buyers", "商品：{name}").replace("{name}", current.label) if current
                                    else translate("Buyers", "关联咨询的商品…"))
        menu = QMenu(self.product_button)
        for p in every:
            action = menu.addAction(p.name, lambda pid=p.id: self.link_product(pid))
            action.setCheckable(True)
            action.setChecked(current is not None and p.id == current.id)
        menu.addSeparator()
        if current is not None:
            menu.addAction(translate("Buyers", "取消关联"), lambda: self.link_product(current.id, remove=True))
        menu.addAction(translate("Buyers", "管理商品资料…"), self.open_products)
        self.product_button.setMenu(menu)
        self.product_menu = menu
        self.context_changed.emit({"客户": self.buyer.nickname, **values})  # the product's fill-in values too

    def link_product(self, product_id: int, remove: bool = False) -> None:
        """Link the buyer to a product (the one fill-ins use from now on), or unlink it."""
        buyer = self.buyer
        if buyer is None:
            return
        now = self.clock.now()

        def run(store: Any) -> Any:
            if remove:
                return products.unlink(store, buyer.id, product_id)
            return products.link(store, buyer.id, product_id, choose=True, now=now)

        self.worker.submit(run, lambda _p: self._load_products(buyer.id),
                           lambda exc: self.actions.messages.post(exc.zh, exc.en, "warning"), write=True)

    def _load_history(self, bid: int) -> None:
        from ...core import aftersales

        self.worker.submit(lambda store: (customers.chase_history(store, bid, limit=30),
                                          reminders.buyer_reminders(store, bid),
                                          team_queries.chase_authors(store, bid),
                                          aftersales.list_cases(store, status="open", buyer_id=bid)), self._on_history,
                           key="buyers.history")

    def open_aftersales(self) -> None:
        """售后: the buyer's open case, or the form to open one."""
        if self.buyer is not None:
            self.actions.open_aftersales.emit(self.buyer.id)

    def _show_cases(self, cases: list) -> None:
        from ...core import aftersales

        self.open_cases = cases
        links = []
        for case in cases[:4]:
            name = i18n.pick(*aftersales.STATUSES[case.status])
            links.append(f'<a href="{case.id}" style="color:{style.ACCENT}; text-decoration:none;">'
                         f'{html.escape(case.ref)} {html.escape(name)} · {html.escape(case.category)}</a>')
        more = f" +{len(cases) - 4}" if len(cases) > 4 else ""
        self.cases_label.setText(html.escape(translate("Buyers", "售后单：")) + "  ".join(links) + more)
        self.cases_label.setVisible(bool(cases))
        if cases and self.buyer is not None:  # no sales chase while a case is open (core/caseguard.py)
            self.chase_button.setEnabled(False)
            self.chase_button.setToolTip(translate("Buyers", "售后处理中：结案前不催单"))
        self.case_button.setText(translate("Buyers", "售后单") if cases else translate("Buyers", "开售后单"))
        self.case_button.setToolTip(translate("Buyers", "打开这位买家未结的售后单") if cases
                                    else translate("Buyers", "买家投诉或要退换：开售后单（停止催单）"))

    def open_buyer(self, buyer_id: int) -> None:
        """From a reminder's 打开: clear the filters and select this buyer."""
        self._select_after = buyer_id
        for combo in (self.mark_filter, self.state_filter, self.platform_filter, self.shop_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.refresh()

    def _show(self, buyer: customers.Buyer | None) -> None:
        self.buyer = buyer
        self.orders_box.set_buyer(buyer, self.holder)
        self.detail.setEnabled(buyer is not None)
        holding.set_tag(self.holder_tag, self.holder if buyer is not None else None)
        self.take_over_button.setVisible(buyer is not None and bool(self.holder))
        if buyer is None or (self.open_cases and self.open_cases[0].buyer_id != buyer.id):
            self._show_cases([])
        self.product_button.setVisible(buyer is not None)  # no empty chip before a buyer is chosen
        if buyer is None:
            self.name_label.setText("")
            self.info_label.setText(translate("Buyers", "选择一位买家查看备注和催单记录"))
            self.pause_button.setText(translate("Buyers", "暂停跟进"))  # greyed out, but never blank
            self.unstar_button.setText(translate("Buyers", "取消标星"))
            self.notes.setPlainText("")
            self.history.clear()
            self.phone_button.hide()
            return
        self.name_label.setText(f"<b>{html.escape(buyer.nickname)}</b> <span style='color:{style.TEXT_3};'>"
                                f"{html.escape(platform_name(buyer.platform))}"
                                f"{(' · ' + html.escape(buyer.shop)) if buyer.shop else ''}</span>")
        self.phone_button.setVisible(buyer.has_phone)
        if not self._phone_shown:
            self.phone_button.setText(buyer.phone_masked or "")
            self.phone_button.setToolTip(translate("Buyers", "点击显示完整号码"))
        self._info(buyer, [])
        if self.notes.toPlainText() != buyer.notes:
            self.notes.setPlainText(buyer.notes)
        self.save_notes_button.setEnabled(False)
        following = buyer.state == "following"
        self.pause_button.setText(translate("Buyers", "暂停跟进") if following else translate("Buyers", "恢复跟进"))
        self.unstar_button.setText(translate("Buyers", "取消标星") if buyer.starred else translate("Buyers", "重新标星"))
        for b in (self.chase_button, self.replied_button, self.paid_button, self.lost_button):
            b.setEnabled(following and buyer.starred)
        # team mode: another agent's buyer is chased or starred again only after a take-over
        blocked = holding.blocked_text(self.holder) if self.holder else ""
        self.chase_button.setToolTip(blocked)
        if self.holder:
            self.chase_button.setEnabled(False)
        # ... and its outcome (回复了 / 已付款 / 流失 / 暂停跟进) is the holder's to record (reminders.outcome)
        outcome_blocked = holding.outcome_blocked_text(self.holder) if self.holder else ""
        for b in (self.replied_button, self.paid_button, self.lost_button, self.pause_button):
            b.setToolTip(outcome_blocked)
            if self.holder:
                b.setEnabled(False)
        self.pause_button.setEnabled(not self.holder)
        self.unstar_button.setEnabled(buyer.starred or not self.holder)
        self.unstar_button.setToolTip("" if buyer.starred else blocked)
        self.take_over_button.setToolTip(holding.following_text(self.holder) if self.holder else "")
        for code, b in self.mood_buttons.items():
            b.setChecked(buyer.mood == code)

    def _info(self, buyer: customers.Buyer, pending: list) -> None:
        now = self.clock.now()
        bits = [state_name(buyer.state)]
        if buyer.tz:
            bits.append(translate("Buyers", "时区 {tz}").replace("{tz}", buyer.tz))
        if buyer.open_questions:
            bits.append(translate("Buyers", "有未答问题，先答疑"))
        if pending:
            nxt = pending[0]
            bits.append(translate("Buyers", "下次提醒 {time}").replace("{time}", clock_text(nxt.due_at, now)))
        from ..reminders.reminders import chip_html

        self.info_label.setText((chip_html(buyer.marks) + "<br>" if buyer.marks else "")
                                + html.escape("  ·  ".join(bits)))

    def _on_history(self, data: tuple[list, list, dict, list]) -> None:
        history, pending, authors, cases = data
        if self.buyer is None:
            return
        self._info(self.buyer, pending)
        self._show_cases([c for c in cases if c.buyer_id == self.buyer.id])
        self.history.clear()
        now = self.clock.now()
        for chase in history:
            sent = customers.when(chase.sent_at)
            text = f"{clock_text(sent, now)}  {angle_name(chase.angle)} · {chase.reply_title or '—'}"
            if chase.buyer_replied:
                text += "  ✓ " + translate("Buyers", "已回复")
            author = authors.get(chase.id)
            if author is not None and author.name:  # team mode: another agent's chase
                text += "  · " + author.name
            item = QListWidgetItem(text)
            if author is not None and author.collision:
                item.setText("⚠ " + text)
                item.setForeground(QColor(holding.TAG_FG))
                item.setToolTip(translate("Buyers", "撞单：这次催单时买家由别人跟进"))
            self.history.addItem(item)
        if not history:
            self.history.addItem(translate("Buyers", "还没有催单记录"))

    # ------------------------------------------------------------ actions

    def chase_now(self) -> None:
        buyer = self.buyer
        if buyer is None:
            return

        def proposed(p: reminders.ChaseProposal) -> None:
            if p.blocked:  # open questions, or an open after-sales case: the core says which
                zh, en = p.messages("zh"), p.messages("en")
                self.actions.messages.post(zh[0] if zh else translate("Buyers", "这位买家还有未解答的问题：先答疑再催单"),
                                           en[0] if en else "", "warning")
                return
            self.actions.paste(buyer.id, buyer.nickname, p, values=p.values)  # the buyer's product fills in

        self.actions.propose(buyer.id, proposed)

    def take_over(self) -> None:
        """接手: the reason dialog, then the take-over on the worker (the list follows data_changed)."""
        if self.buyer is not None and self.holder:
            self.actions.offer_take_over(self.buyer.id, self.buyer.nickname, self.holder, self)

    def _outcome(self, kind: str) -> None:
        if self.buyer is not None:
            self.actions.outcome(self.buyer.id, kind)

    def _toggle_star(self) -> None:
        buyer = self.buyer
        if buyer is None:
            return
        if buyer.starred:
            self.actions.unstar(buyer.id)
        else:
            now = self.clock.now()
            self.worker.submit(lambda store: reminders.star(store, buyer_id=buyer.id, now=now),
                               on_error=self.actions._error, write=True)

    def save_notes(self) -> None:
        buyer = self.buyer
        if buyer is None:
            return
        text = self.notes.toPlainText()
        self.worker.submit(lambda store: customers.update_buyer(store, buyer.id, notes=text),
                           lambda _b: self.actions.messages.post(translate("Buyers", "备注已保存"), "", "success"),
                           self.actions._error, write=True)

    def reveal_phone(self) -> None:
        buyer = self.buyer
        if buyer is None:
            return

        def got(phone: str | None) -> None:
            if self.buyer is not None and self.buyer.id == buyer.id:
                self._phone_shown = True
                self.phone_button.setText(phone or "")

        self.worker.submit(lambda store: customers.reveal_phone(store, buyer.id), got, self.actions._error)

    def open_products(self) -> QWidget:
        """The 商品资料 window (one at a time)."""
        from ..products.products_tab import ProductsDialog

        dialog = next((d for d in self._dialogs if isinstance(d, ProductsDialog)), None)
        if dialog is None:
            dialog = ProductsDialog(self.worker, self, messages=self.actions.messages)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            self._dialogs.append(dialog)
            dialog.finished.connect(lambda *_: self._dialogs.remove(dialog) if dialog in self._dialogs else None)
        dialog.show()
        dialog.raise_()
        return dialog

    def open_star_dialog(self, nickname: str = "") -> None:
        from .star_dialog import StarDialog

        place = self.actions.last_place or ((self.buyer.platform, self.buyer.shop) if self.buyer else (None, ""))
        dialog = StarDialog(self.worker, self, clock=self.clock, nickname=nickname, platform=place[0], shop=place[1])

        def starred(buyer: customers.Buyer) -> None:
            self.actions.last_place = (buyer.platform, buyer.shop)
            self._select_after = buyer.id
            self.actions.messages.post(translate("Buyers", "已标星“{nick}”").replace("{nick}", buyer.nickname), "",
                                      "success")
            self.load_filters()

        dialog.starred.connect(starred)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda *_: self._dialogs.remove(dialog) if dialog in self._dialogs else None)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.search.setPlaceholderText(translate("Buyers", "搜索买家昵称或备注"))
        self.star_button.setToolTip(translate("Buyers", "标星一位买家"))
        self.products_button.setToolTip(translate("Buyers", "商品资料：卖点、材质、赠品（催单话术从这里填）"))
        keep = [c.currentData() for c in (self.state_filter, self.platform_filter)]
        for combo in (self.state_filter, self.platform_filter):
            combo.blockSignals(True)
            combo.clear()
        self.state_filter.addItem(translate("Buyers", "全部状态"), None)
        for code, (zh, en) in customers.STATES.items():
            self.state_filter.addItem(i18n.pick(zh, en), code)
        self.platform_filter.addItem(translate("Buyers", "全部平台"), None)
        for code, (zh, en) in customers.PLATFORMS.items():
            self.platform_filter.addItem(i18n.pick(zh, en), code)
        for combo, value in zip((self.state_filter, self.platform_filter), keep, strict=True):
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.blockSignals(False)
        # The marks and shops come from the store (load_filters); only their "all" entries are ours.
        if self.mark_filter.count():
            self.mark_filter.setItemText(0, translate("Buyers", "全部标记"))
        if self.shop_filter.count():
            self.shop_filter.setItemText(0, translate("Buyers", "全部店铺"))
        self._filter_columns = 0
        self._arrange_filters()
        self.empty.setText(translate("Buyers", "没有符合条件的买家。点右上角的星标，或在聊天窗口选中昵称后按“标星”快捷键。"))
        self.chase_button.setText(translate("Buyers", "粘贴催单"))
        self.take_over_button.setText(translate("Buyers", "接手"))
        self.replied_button.setText(translate("Buyers", "回复了"))
        self.replied_button.setToolTip(translate("Buyers", "买家回复了：按设置重新开始或保持节奏"))
        self.paid_button.setText(translate("Buyers", "已付款"))
        self.lost_button.setText(translate("Buyers", "流失"))
        self.notes_title.setText(translate("Buyers", "备注"))
        self.save_notes_button.setText(translate("Buyers", "保存备注"))
        self.history_title.setText(translate("Buyers", "催单记录"))
        for code, b in self.mood_buttons.items():
            b.setText(i18n.pick(*invites.MOODS[code]))
            b.setToolTip(translate("Buyers", "买家心情：只邀请满意的买家评价（再点一次取消）"))
        self.invite_button.setText(translate("Buyers", "邀评"))
        self._show_cases(self.open_cases)
        self._show_invite()
        self._show(self.buyer)
        if self.buyer is not None:
            self._load_history(self.buyer.id)  # its lines are written in the language of the moment
        self.list.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
