"""The "open an after-sales case" form (开售后单): one column for the 360-420 px panel.

A known buyer (客户 tab, reminder, hotkey on a known nickname) is shown as a line; a nickname no buyer
has yet (the hotkey, 新售后单 on the 售后 tab) gets nickname / platform / shop fields, and the buyer is
starred in the same transaction as the case is opened: a refused case leaves nothing behind. Problems
come back as one line under the fields (the core's bilingual ValidationError, in the panel's language).
Keyboard: Tab through the fields, Ctrl+Enter saves, Esc cancels.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import aftersales as af
from ...core import customers, reminders
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n

translate = QCoreApplication.translate

# What each severity means, for the buttons' tooltips (the domain's ladder: light / medium / severe).
SEVERITY_HINTS = {
    "light": QT_TRANSLATE_NOOP("Aftersales", "轻度：小瑕疵、划痕、差价"),
    "medium": QT_TRANSLATE_NOOP("Aftersales", "中度：明显瑕疵，但不影响使用"),
    "severe": QT_TRANSLATE_NOOP("Aftersales", "严重：坏了、不能用、发错或缺件"),
}


def pick(table: dict[str, tuple[str, str]], code: str | None) -> str:
    """The label of a core code (status, severity, mood...) in the panel's language."""
    if not code:
        return ""
    zh, en = table.get(code, (code, code))
    return i18n.pick(zh, en[:1].upper() + en[1:])  # the core's English names are lower case: shown alone here


def segmented(codes: list[str], parent: QWidget | None = None) -> tuple[QHBoxLayout, QButtonGroup,
                                                                         dict[str, QToolButton]]:
    """A row of exclusive chip buttons (severity, mood), one per code."""
    row = QHBoxLayout()
    row.setSpacing(3)
    group = QButtonGroup(parent)
    group.setExclusive(True)
    buttons: dict[str, QToolButton] = {}
    for code in codes:
        b = QToolButton(objectName="Mood")
        b.setCheckable(True)
        b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        group.addButton(b)
        buttons[code] = b
        row.addWidget(b)
    row.addStretch(1)
    return row, group, buttons


def checked(buttons: dict[str, QToolButton]) -> str | None:
    return next((code for code, b in buttons.items() if b.isChecked()), None)


@dataclass
class FormTarget:
    """Whom the form opens a case for: a known buyer (buyer_id), or a new one by nickname."""

    buyer_id: int | None
    nickname: str
    platform: str
    shop: str


class CaseForm(QWidget):
    """开售后单. saved(case) once the case is stored; cancelled() on Esc / 取消."""

    saved = Signal(object)
    cancelled = Signal()

    def __init__(self, worker: StoreWorker, clock: Clock | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CaseForm")
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.target: FormTarget | None = None
        self.categories: list[af.Category] = []
        self._saving = False
        self._buyer_text = ""  # the known buyer, as rich text (empty: a new buyer typed in)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(objectName="CaseScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(objectName="CaseBody")
        scroll.setWidget(body)
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 4, 6)
        col.setSpacing(6)

        head = QHBoxLayout()
        self.title = QLabel(objectName="CaseTitle")
        head.addWidget(self.title, 1)
        col.addLayout(head)
        self.buyer_label = QLabel(objectName="CardMeta")
        self.buyer_label.setTextFormat(Qt.TextFormat.RichText)
        self.buyer_label.setWordWrap(True)
        col.addWidget(self.buyer_label)
        # a new buyer: nickname, platform, shop
        self.new_buyer = QWidget()
        nb = QGridLayout(self.new_buyer)
        nb.setContentsMargins(0, 0, 0, 0)
        nb.setSpacing(4)
        self.nickname = QLineEdit()
        self.nickname.setMaxLength(64)
        self.platform = QComboBox()
        self.shop = QLineEdit()
        self.shop.setMaxLength(40)
        nb.addWidget(self.nickname, 0, 0, 1, 2)
        nb.addWidget(self.platform, 1, 0)
        nb.addWidget(self.shop, 1, 1)
        col.addWidget(self.new_buyer)

        self.problem_label = QLabel(objectName="SectionTitle")
        col.addWidget(self.problem_label)
        self.problem = QPlainTextEdit()
        self.problem.setTabChangesFocus(True)
        self.problem.setFixedHeight(70)
        col.addWidget(self.problem)
        pair = QHBoxLayout()
        pair.setSpacing(4)
        self.order = QLineEdit()
        self.order.setMaxLength(af.MAX_ORDER)
        self.product = QLineEdit()
        self.product.setMaxLength(af.MAX_PRODUCT)
        pair.addWidget(self.order, 1)
        pair.addWidget(self.product, 1)
        col.addLayout(pair)

        self.category_label = QLabel(objectName="SectionTitle")
        col.addWidget(self.category_label)
        pair = QHBoxLayout()
        pair.setSpacing(4)
        self.category = QComboBox()
        self.wanted = QComboBox()
        pair.addWidget(self.category, 1)
        pair.addWidget(self.wanted, 1)
        col.addLayout(pair)
        self.severity_label = QLabel(objectName="SectionTitle")
        col.addWidget(self.severity_label)
        row, self.severity_group, self.severity_buttons = segmented(list(af.SEVERITIES), self)
        col.addLayout(row)
        self.mood_label = QLabel(objectName="SectionTitle")
        col.addWidget(self.mood_label)
        row, self.mood_group, self.mood_buttons = segmented(list(af.MOODS), self)
        col.addLayout(row)

        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        col.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.cancel_button = QPushButton()
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.save_button, 2)
        col.addLayout(buttons)
        self.hint = QLabel(objectName="Hint")
        self.hint.setWordWrap(True)
        col.addWidget(self.hint)
        col.addStretch(1)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.save)
        escape = QShortcut(QKeySequence("Esc"), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancel)
        for w in (self.problem, self.order, self.product, self.nickname, self.shop):
            w.textChanged.connect(self._clear_error)
        self._retranslate()

    # ------------------------------------------------------------ filling

    def start(self, target: FormTarget, buyer_label: str = "") -> None:
        """Empty the form for this buyer and load the categories (the shop's own included)."""
        self.target = target
        self._saving = False
        self.save_button.setEnabled(True)
        for w in (self.problem, self.order, self.product):
            w.clear()
        self.nickname.setText(target.nickname)
        self.shop.setText(target.shop)
        self.platform.setCurrentIndex(max(0, self.platform.findData(target.platform or "other")))
        self.new_buyer.setVisible(target.buyer_id is None)
        self._buyer_text = buyer_label
        for group, buttons in ((self.severity_group, self.severity_buttons), (self.mood_group, self.mood_buttons)):
            group.setExclusive(False)
            for b in buttons.values():
                b.setChecked(False)
            group.setExclusive(True)
        # The buyer's mood defaults to the core's default (calm): one click changes it.
        first_mood = next(iter(af.MOODS))
        self.mood_buttons[first_mood].setChecked(True)
        self.wanted.setCurrentIndex(0)
        self._clear_error()
        self._retranslate()
        self._on_categories([])  # never another shop's categories while this buyer's are read
        shop = target.shop if target.buyer_id is None else None
        bid = target.buyer_id

        def load(store: Any) -> list[af.Category]:
            buyer_shop = customers.get_buyer(store, bid).shop if bid is not None else shop
            return af.list_categories(store, buyer_shop or "")

        self.worker.submit(load, self._on_categories, self._on_error, key="aftersales.form.categories")
        (self.problem if target.buyer_id is not None or target.nickname else self.nickname).setFocus(
            Qt.FocusReason.OtherFocusReason)

    def _on_categories(self, cats: list[af.Category]) -> None:
        keep = self.category.currentData()
        self.categories = cats
        self.category.clear()
        self.category.addItem(translate("Aftersales", "选择分类…"), None)
        for c in cats:
            self.category.addItem(c.name, c.id)
        self.category.setCurrentIndex(max(0, self.category.findData(keep)))

    # ------------------------------------------------------------ saving

    def values(self) -> dict[str, Any]:
        return {"problem": self.problem.toPlainText(), "order_no": self.order.text(), "product": self.product.text(),
                "category": self.category.currentData(), "severity": checked(self.severity_buttons),
                "wanted": self.wanted.currentData(), "mood": checked(self.mood_buttons)}

    def save(self) -> None:
        if self.target is None or self._saving or not self.isVisible():
            return
        v = self.values()
        # What the core would refuse with a list of codes is said here in the agent's words first.
        if not v["problem"].strip():
            return self.show_error(translate("Aftersales", "请写下买家的问题（买家原话）"), self.problem)
        if v["category"] is None:
            return self.show_error(translate("Aftersales", "请选择问题分类"), self.category)
        if v["wanted"] is None:
            return self.show_error(translate("Aftersales", "请选择买家想要的结果"), self.wanted)
        if v["severity"] is None:
            return self.show_error(translate("Aftersales", "请选择严重程度：轻度、中度或严重"), None)
        target = self.target
        nickname, platform, shop = self.nickname.text(), self.platform.currentData(), self.shop.text()
        now = self.clock.now()

        def job(store: Any) -> af.Case:
            with store.write():  # one transaction: a refused case stars nobody
                bid = target.buyer_id
                if bid is None:
                    bid = reminders.star(store, platform=platform, nickname=nickname, shop=shop, now=now).id
                return af.open_case(store, buyer_id=bid, problem=v["problem"], category=str(v["category"]),
                                    severity=v["severity"], wanted=v["wanted"], mood=v["mood"] or next(iter(af.MOODS)),
                                    order_no=v["order_no"], product=v["product"], now=now)

        self._saving = True
        self.save_button.setEnabled(False)
        self.worker.submit(job, self._on_saved, self._on_error, write=True)

    def _on_saved(self, case: af.Case) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self.target = None
        self.saved.emit(case)

    def _on_error(self, exc: KnownError) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        fields = {"problem": self.problem, "order": self.order, "product": self.product, "category": self.category,
                  "nickname": self.nickname, "platform": self.platform, "shop": self.shop}
        self.show_error(i18n.pick(exc.zh, exc.en), fields.get(getattr(exc, "field", None) or ""))

    def show_error(self, text: str, widget: QWidget | None) -> None:
        self.error.setText(text.splitlines()[0] if text else "")
        self.error.show()
        if widget is not None:
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _clear_error(self) -> None:
        self.error.hide()
        for w in (self.problem, self.order, self.product, self.category, self.wanted, self.nickname, self.shop):
            if w.property("invalid"):
                w.setProperty("invalid", False)
                w.style().unpolish(w)
                w.style().polish(w)

    def cancel(self) -> None:
        if self.isVisible():
            self.target = None
            self.cancelled.emit()

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.title.setText(translate("Aftersales", "开售后单"))
        text = self._buyer_text
        self.buyer_label.setText(translate("Aftersales", "买家：{buyer}").replace("{buyer}", text) if text else
                                 html.escape(translate("Aftersales", "新买家：保存时一并标星，开单后不再催单")))
        self.nickname.setPlaceholderText(translate("Aftersales", "买家昵称"))
        self.shop.setPlaceholderText(translate("Aftersales", "店铺（可空）"))
        keep = self.platform.currentData()
        self.platform.clear()
        for code, (zh, en) in customers.PLATFORMS.items():
            self.platform.addItem(i18n.pick(zh, en), code)
        self.platform.setCurrentIndex(max(0, self.platform.findData(keep)))
        self.problem_label.setText(translate("Aftersales", "问题（买家原话）"))
        self.problem.setPlaceholderText(translate("Aftersales", "买家说了什么、哪里不对、感受如何"))
        self.order.setPlaceholderText(translate("Aftersales", "订单号（保存后隐藏）"))
        self.product.setPlaceholderText(translate("Aftersales", "商品"))
        self.category_label.setText(translate("Aftersales", "分类与诉求"))
        if self.category.count():
            self.category.setItemText(0, translate("Aftersales", "选择分类…"))
        keep = self.wanted.currentData()
        self.wanted.clear()
        self.wanted.addItem(translate("Aftersales", "买家想要…"), None)
        for code in af.WANTED:
            self.wanted.addItem(pick(af.WANTED, code), code)
        self.wanted.setCurrentIndex(max(0, self.wanted.findData(keep)))
        self.severity_label.setText(translate("Aftersales", "严重程度"))
        for code, b in self.severity_buttons.items():
            b.setText(pick(af.SEVERITIES, code))
            b.setToolTip(translate("Aftersales", SEVERITY_HINTS[code]) if code in SEVERITY_HINTS else "")
        self.mood_label.setText(translate("Aftersales", "买家情绪"))
        for code, b in self.mood_buttons.items():
            b.setText(pick(af.MOODS, code))
        self.cancel_button.setText(translate("Aftersales", "取消"))
        self.save_button.setText(translate("Aftersales", "开单"))
        self.save_button.setToolTip("Ctrl+Enter")
        self.hint.setText(translate("Aftersales", "开单后买家标记“售后中”，停止催单和大促催付，改为售后跟进提醒。"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
