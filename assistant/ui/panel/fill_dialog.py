"""A small form for the fill-in fields a reply needs ({客户}, {商品}…), with a live preview."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core import templates
from ..widgets import i18n, style
from ..widgets.widgets import body_html
from .queries import ReplyRow

translate = QCoreApplication.translate
_FIELDS = {f.name: f for f in templates.FIELDS}


class FillFieldsDialog(QDialog):
    def __init__(self, row: ReplyRow, missing: list[str], prefill: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FillFieldsDialog")
        self.setWindowTitle(translate("FillFields", "填写回复中的空"))
        self.setMinimumWidth(340)
        self._row = row
        self._prefill = dict(prefill)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        title = QLabel(translate("FillFields", "“{title}”需要填写：").replace("{title}", row.title))
        title.setObjectName("SectionTitle")
        title.setWordWrap(True)
        layout.addWidget(title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edits: dict[str, QLineEdit] = {}
        for name in missing:
            edit = QLineEdit()
            field = _FIELDS.get(name)
            if field is not None:
                edit.setPlaceholderText(translate("FillFields", "例如：{example}").replace("{example}", field.example))
            edit.setText(self._prefill.get(name, ""))
            edit.textChanged.connect(self._update_preview)
            label = name if field is None else i18n.pick(name, field.label_en)
            form.addRow(label, edit)
            self.edits[name] = edit
        layout.addLayout(form)
        self.preview = QTextBrowser()
        self.preview.setObjectName("Preview")
        self.preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.preview.setMaximumHeight(140)
        layout.addWidget(self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(translate("FillFields", "确定"))
        ok.setObjectName("Primary")
        for button in self.buttons.buttons():
            button.setIcon(QIcon())  # no theme icons on dialog buttons
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(translate("FillFields", "取消"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_preview()
        first_empty = next((e for e in self.edits.values() if not e.text()), None)
        (first_empty or next(iter(self.edits.values()), self.buttons)).setFocus()

    def values(self) -> dict[str, str]:
        values = {k: v for k, v in self._prefill.items() if k in self._row.fields}
        values.update({name: edit.text().strip() for name, edit in self.edits.items()})
        return values

    def _update_preview(self) -> None:
        rendered = templates.render(self._row.body, self.values())
        self.preview.setHtml(f'<div style="color:{style.TEXT}; font-size:13px;">{body_html(rendered.text)}</div>')
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not rendered.missing)
        ok.setToolTip("" if not rendered.missing else
                      translate("FillFields", "还有空没填：{fields}").replace("{fields}", "、".join(rendered.missing)))

