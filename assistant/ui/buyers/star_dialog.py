"""Star a buyer: platform, shop, nickname, marks, phone, time zone, open questions, cadence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, products, reminders
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..team import holder as holding
from ..team import queries as team_queries
from ..widgets import i18n

translate = QCoreApplication.translate
ZONES = ("", "Asia/Shanghai", "Asia/Tokyo", "Europe/Moscow", "Europe/Madrid", "Europe/London", "America/New_York",
         "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney")


class StarDialog(QDialog):
    starred = Signal(object)  # customers.Buyer

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, *, clock: Clock | None = None,
                 nickname: str = "", platform: str | None = None, shop: str = "") -> None:
        super().__init__(parent)
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.setWindowTitle(translate("StarDialog", "标星买家"))
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.platform = QComboBox()
        for code, (zh, en) in customers.PLATFORMS.items():
            self.platform.addItem(i18n.pick(zh, en), code)
        if platform:
            self.platform.setCurrentIndex(max(0, self.platform.findData(platform)))
        self.shop = QComboBox()
        self.shop.setEditable(True)
        self.shop.setCurrentText(shop)
        self.nickname = QLineEdit(nickname)
        self.holder_tag = holding.tag_label()
        nick_row = QHBoxLayout()
        nick_row.setContentsMargins(0, 0, 0, 0)
        nick_row.setSpacing(6)
        nick_row.addWidget(self.nickname, 1)
        nick_row.addWidget(self.holder_tag, 0, Qt.AlignmentFlag.AlignVCenter)
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(translate("StarDialog", "可不填；列表中只显示 138****5678"))
        self.tz = QComboBox()
        self.tz.setEditable(True)
        self.tz.addItems(ZONES)
        self.tz.lineEdit().setPlaceholderText(translate("StarDialog", "跨境买家填写，例如 Europe/Moscow"))
        self.open_questions = QCheckBox(translate("StarDialog", "买家还有未解答的问题（先答疑，暂不催单）"))
        self.cadence = QComboBox()
        self.cadence.addItem(translate("StarDialog", "按标记自动选择"), None)
        self.product = QComboBox()  # the product the buyer asked about (core/products.py)
        self.product.addItem(translate("StarDialog", "不关联"), None)
        self.marks_box = QWidget()
        self.marks_grid = QGridLayout(self.marks_box)
        self.marks_grid.setContentsMargins(0, 0, 0, 0)
        self.marks_grid.setSpacing(4)
        self.mark_buttons: list[QPushButton] = []
        form.addRow(translate("StarDialog", "平台"), self.platform)
        form.addRow(translate("StarDialog", "店铺"), self.shop)
        form.addRow(translate("StarDialog", "买家昵称"), nick_row)
        form.addRow(translate("StarDialog", "商品"), self.product)
        form.addRow(translate("StarDialog", "标记"), self.marks_box)
        form.addRow(translate("StarDialog", "节奏"), self.cadence)
        form.addRow(translate("StarDialog", "电话"), self.phone)
        form.addRow(translate("StarDialog", "时区"), self.tz)
        form.addRow("", self.open_questions)
        layout.addLayout(form)
        # team mode: the nickname is a buyer another agent follows; OK becomes 接手并标星
        self.held_note = QLabel(objectName="Hint")
        self.held_note.setWordWrap(True)
        self.held_note.hide()
        layout.addWidget(self.held_note)
        self.reason = QLineEdit()
        self.reason.setMaxLength(holding.REASON_LIMIT)
        self.reason.setPlaceholderText(translate("StarDialog", "接手原因（可不填）"))
        self.reason.hide()
        layout.addWidget(self.reason)
        self.held: tuple[int, str] | None = None  # (buyer id, holder's name)
        self._held_for: tuple | None = None  # the (platform, shop, nickname) self.held was found for
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        # our own accept button: a standard Ok would be relabelled "OK" on a language switch
        self.ok_button = QPushButton(objectName="Primary")
        self.ok_button.setDefault(True)
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._show_held(None)
        self._check_timer = QTimer(self, singleShot=True, interval=250)
        self._check_timer.timeout.connect(self.check_holder)
        self.nickname.textChanged.connect(lambda _t: self._check_timer.start())
        self.shop.currentTextChanged.connect(lambda _t: self._check_timer.start())
        self.platform.currentIndexChanged.connect(lambda _i: self._check_timer.start())
        worker.submit(self._load_choices, self._on_choices)
        if nickname:
            self.check_holder()

    def check_holder(self) -> None:
        """Is the buyer entered one another agent follows? (a job on the worker, newest wins)"""
        platform, shop, nick = self.platform.currentData(), self.shop.currentText(), self.nickname.text()
        now = self.clock.now()
        self.worker.submit(lambda store: team_queries.holder_by_identity(store, platform, shop, nick, now),
                           lambda held: self._show_held(held, (platform, shop.strip(), nick.strip())),
                           lambda _exc: self._show_held(None), key=f"star.holder-{id(self)}")

    def _show_held(self, held: tuple[int, str] | None, identity: tuple | None = None) -> None:
        self.held = held
        self._held_for = identity
        holding.set_tag(self.holder_tag, held[1] if held else None)
        self.held_note.setVisible(held is not None)
        self.reason.setVisible(held is not None)
        if held is not None:
            self.held_note.setText(translate("StarDialog", "{name} 正在跟进这位买家：标星前先接手，团队会记录这次接手。")
                                   .replace("{name}", held[1]))
        self.ok_button.setText(translate("StarDialog", "接手并标星") if held is not None
                               else translate("StarDialog", "标星并开始跟进"))

    def changeEvent(self, event: QEvent) -> None:
        # the take-over texts may appear while the dialog is open: they follow a language switch
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "ok_button"):
            self._show_held(self.held, self._held_for)
        super().changeEvent(event)

    @staticmethod
    def _load_choices(store: Any) -> tuple[list, list, list, list]:
        return (customers.list_marks(store), customers.shops(store),
                [(c.id, c.zh, c.en) for c in reminders.cadences(store).values()
                 if c.steps and c.id != reminders.PROMO_CADENCE and not c.for_order], products.list_products(store))

    def _on_choices(self, choices: tuple[list, list, list, list]) -> None:
        marks, shops, cadences, items = choices
        for p in items:
            self.product.addItem(p.name, p.id)
        text = self.shop.currentText()
        self.shop.addItems(shops)
        self.shop.setCurrentText(text)
        for n, mark in enumerate(m for m in marks if m.shop in ("", text)):
            b = QPushButton(mark.name, objectName="Chip", checkable=True)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.setProperty("mark", mark.name)
            self.mark_buttons.append(b)
            self.marks_grid.addWidget(b, n // 3, n % 3)
        for cid, zh, en in cadences:
            self.cadence.addItem(i18n.pick(zh, en), cid)

    def marks(self) -> list[str]:
        return [str(b.property("mark")) for b in self.mark_buttons if b.isChecked()]

    def values(self) -> dict[str, Any]:
        return {"platform": self.platform.currentData(), "shop": self.shop.currentText().strip(),
                "nickname": self.nickname.text().strip(), "marks": self.marks(),
                "phone": self.phone.text().strip() or None, "tz": self.tz.currentText().strip() or None,
                "open_questions": self.open_questions.isChecked(), "cadence": self.cadence.currentData()}

    def submit(self) -> None:
        values = self.values()
        now = self.clock.now()
        self.buttons.setEnabled(False)

        def failed(exc: KnownError) -> None:
            self.buttons.setEnabled(True)
            self.error.setText(i18n.pick(exc.zh, exc.en))
            self.error.show()

        def done(buyer: customers.Buyer) -> None:
            self.starred.emit(buyer)
            self.accept()

        product_id = self.product.currentData()

        def linked(store: Any, starring: Callable[[], customers.Buyer]) -> customers.Buyer:
            with store.write():  # star and link in one transaction: a product gone meanwhile stars nobody
                buyer = starring()
                if product_id is not None:
                    products.link(store, buyer.id, product_id, now=now)
            return buyer

        held = self.held
        if held is not None and self._held_for == (values["platform"], values["shop"], values["nickname"]):
            # the buyer is the one found by platform + shop + nickname: take over, then star, in one go
            reason = self.reason.text().strip()
            star = {k: v for k, v in values.items() if k not in ("platform", "shop", "nickname")}
            self.worker.submit(lambda store: linked(store, lambda: team_queries.take_over_and_star(
                store, held[0], reason, now, **star)), done, failed, write=True)
            return
        self.worker.submit(lambda store: linked(store, lambda: reminders.star(store, now=now, **values)), done, failed,
                           write=True)
