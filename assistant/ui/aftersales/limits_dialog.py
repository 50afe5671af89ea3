"""挽单权限 (售后 tab → 挽单权限…): what an agent may offer alone, per severity, optionally per agent and
per product (core/aftersales.set_limit / delete_limit / list_limits). The shop manager's: without a
team server the PC's user sets them; in team mode only a supervisor's login (the server enforces it
too). An offer above the limit becomes an escalation to the supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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

from ...core import aftersales as af
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n

translate = QCoreApplication.translate
ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class Loaded:
    rows: list[af.Limit]  # what the manager set
    defaults: list[af.Limit]  # the shipped limits per severity, where nothing is set
    may_set: bool


def load(store: Any) -> Loaded:
    shipped = af.shipped_data().limits
    defaults = [af.Limit(sev, d["max_compensation"], d["exchange"], d["return"], d["refund"], source="default")
                for sev, d in shipped.items()]
    return Loaded(af.list_limits(store), defaults, af.may_decide(store))


def pick(table: dict[str, tuple[str, str]], code: str) -> str:
    return table[code][1 if i18n.is_english() else 0]


class LimitsDialog(QDialog):
    def __init__(self, worker: StoreWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LimitsDialog")
        self.worker = worker
        self.data: Loaded | None = None
        layout = QVBoxLayout(self)
        self.intro = QLabel(objectName="Hint")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.list = QListWidget(objectName="ResultList")
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda *_: self._chosen())
        layout.addWidget(self.list, 1)

        form_box = QWidget()
        form = QFormLayout(form_box)
        form.setContentsMargins(0, 4, 0, 0)
        self.severity = QComboBox()
        for code in af.SEVERITIES:
            self.severity.addItem("", code)
        self.agent = QLineEdit()
        self.product = QLineEdit()
        self.amount = QLineEdit()
        checks = QHBoxLayout()
        self.exchange, self.ret, self.refund = QCheckBox(), QCheckBox(), QCheckBox()
        for box in (self.exchange, self.ret, self.refund):
            checks.addWidget(box)
        checks.addStretch(1)
        self.labels = [QLabel() for _ in range(5)]
        for label, field in zip(self.labels, (self.severity, self.agent, self.product, self.amount, checks),
                                strict=True):
            form.addRow(label, field)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addRow(self.error)
        layout.addWidget(form_box)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton(objectName="Danger")
        self.delete_button.clicked.connect(self.delete_current)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.accept)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.form_widgets = (self.severity, self.agent, self.product, self.amount, self.exchange, self.ret,
                             self.refund, self.save_button, self.delete_button)
        self.resize(440, 520)
        self._retranslate()
        self.refresh()

    # ------------------------------------------------------------ data

    def refresh(self) -> None:
        self.worker.submit(load, self._on_loaded, self._show_error, key="limits.dialog")

    def _on_loaded(self, data: Loaded) -> None:
        self.data = data
        self.list.clear()
        lang = "en" if i18n.is_english() else "zh"
        two_lines = self.list.fontMetrics().lineSpacing() * 2 + 10  # who and what, then the limit
        for limit in data.rows:
            who = limit.agent or translate("Aftersales", "全店默认")
            what = f" · {limit.product}" if limit.product else ""
            item = QListWidgetItem(f"{pick(af.SEVERITIES, limit.severity)} · {who}{what}\n{limit.describe(lang)}")
            item.setData(ROLE, limit)
            item.setSizeHint(QSize(0, two_lines))
            self.list.addItem(item)
        for limit in data.defaults:
            item = QListWidgetItem(translate("Aftersales", "{severity} · 内置（未设置时）").replace(
                "{severity}", pick(af.SEVERITIES, limit.severity)) + "\n" + limit.describe(lang))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # reference only: set a row to change it
            item.setSizeHint(QSize(0, two_lines))
            self.list.addItem(item)
        for w in self.form_widgets:
            w.setEnabled(data.may_set)
        self.intro.setText(self._intro(data.may_set))

    def _chosen(self) -> None:
        item = self.list.currentItem()
        limit = item.data(ROLE) if item is not None else None
        if not isinstance(limit, af.Limit):
            return
        self.severity.setCurrentIndex(self.severity.findData(limit.severity))
        self.agent.setText(limit.agent)
        self.product.setText(limit.product)
        self.amount.setText(af.yuan(limit.max_compensation).removesuffix(".00"))
        self.exchange.setChecked(limit.may_exchange)
        self.ret.setChecked(limit.may_return)
        self.refund.setChecked(limit.may_refund)

    def save(self) -> None:
        severity, agent, product = self.severity.currentData(), self.agent.text(), self.product.text()
        amount = self.amount.text().strip() or "0"
        flags = (self.exchange.isChecked(), self.ret.isChecked(), self.refund.isChecked())
        self.error.hide()
        self.worker.submit(lambda store: af.set_limit(store, severity, agent=agent, product=product,
                                                      max_compensation=amount, may_exchange=flags[0],
                                                      may_return=flags[1], may_refund=flags[2]),
                           lambda _limit: self.refresh(), self._show_error, write=True)

    def delete_current(self) -> None:
        item = self.list.currentItem()
        limit = item.data(ROLE) if item is not None else None
        if not isinstance(limit, af.Limit):
            return
        self.worker.submit(lambda store: af.delete_limit(store, limit.severity, agent=limit.agent,
                                                         product=limit.product),
                           lambda _r: self.refresh(), self._show_error, write=True)

    def _show_error(self, exc: KnownError) -> None:
        self.error.setText(i18n.pick(exc.zh, exc.en))
        self.error.show()

    # ------------------------------------------------------------ language

    @staticmethod
    def _intro(may_set: bool) -> str:
        if may_set:
            return translate("Aftersales", "客服在权限内可以直接提出方案；超出的会转为升级主管。按程度设置，"
                                           "可只对某位客服或某个商品。")
        return translate("Aftersales", "挽单权限由主管设置，这里只能查看。")

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Aftersales", "挽单权限"))
        for n in range(self.severity.count()):
            self.severity.setItemText(n, pick(af.SEVERITIES, self.severity.itemData(n)))
        for label, text in zip(self.labels, (translate("Aftersales", "程度"), translate("Aftersales", "客服"),
                                             translate("Aftersales", "商品"), translate("Aftersales", "补偿上限 ¥"),
                                             translate("Aftersales", "可以")), strict=True):
            label.setText(text)
        self.agent.setPlaceholderText(translate("Aftersales", "空 = 全店客服"))
        self.product.setPlaceholderText(translate("Aftersales", "空 = 所有商品"))
        self.exchange.setText(pick(af.OFFERS, "exchange"))
        self.ret.setText(pick(af.OFFERS, "return"))
        self.refund.setText(pick(af.OFFERS, "refund"))
        self.save_button.setText(translate("Aftersales", "保存这一条"))
        self.delete_button.setText(translate("Aftersales", "删除所选"))
        self.close_button.setText(translate("Aftersales", "关闭"))
        if self.data is not None:
            self._on_loaded(self.data)
        else:
            self.intro.setText(self._intro(True))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
