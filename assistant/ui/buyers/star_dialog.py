"""Star a buyer: platform, shop, nickname, marks, phone, time zone, open questions, cadence."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, reminders
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.worker import StoreWorker
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
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(translate("StarDialog", "可不填；列表中只显示 138****5678"))
        self.tz = QComboBox()
        self.tz.setEditable(True)
        self.tz.addItems(ZONES)
        self.tz.lineEdit().setPlaceholderText(translate("StarDialog", "跨境买家填写，例如 Europe/Moscow"))
        self.open_questions = QCheckBox(translate("StarDialog", "买家还有未解答的问题（先答疑，暂不催单）"))
        self.cadence = QComboBox()
        self.cadence.addItem(translate("StarDialog", "按标记自动选择"), None)
        self.marks_box = QWidget()
        self.marks_grid = QGridLayout(self.marks_box)
        self.marks_grid.setContentsMargins(0, 0, 0, 0)
        self.marks_grid.setSpacing(4)
        self.mark_buttons: list[QPushButton] = []
        form.addRow(translate("StarDialog", "平台"), self.platform)
        form.addRow(translate("StarDialog", "店铺"), self.shop)
        form.addRow(translate("StarDialog", "买家昵称"), self.nickname)
        form.addRow(translate("StarDialog", "标记"), self.marks_box)
        form.addRow(translate("StarDialog", "节奏"), self.cadence)
        form.addRow(translate("StarDialog", "电话"), self.phone)
        form.addRow(translate("StarDialog", "时区"), self.tz)
        form.addRow("", self.open_questions)
        layout.addLayout(form)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(translate("StarDialog", "标星并开始跟进"))
        ok.setObjectName("Primary")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        worker.submit(self._load_choices, self._on_choices)

    @staticmethod
    def _load_choices(store: Any) -> tuple[list, list, list]:
        return (customers.list_marks(store), customers.shops(store),
                [(c.id, c.zh, c.en) for c in reminders.cadences(store).values()
                 if c.steps and c.id != reminders.PROMO_CADENCE])

    def _on_choices(self, choices: tuple[list, list, list]) -> None:
        marks, shops, cadences = choices
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

        self.worker.submit(lambda store: reminders.star(store, now=now, **values), done, failed, write=True)
