"""Shared buyers in the panel: the "王五 跟进中" tag and the 接手 (take over) dialog that the 客户
tab, the reminder cards and the star dialog share. No store access here: the callers run the
take-over on the StoreWorker."""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from ..widgets import style

translate = QCoreApplication.translate

TAG_FG = "#b45309"  # amber: somebody else's buyer, a caution rather than an error
TAG_BG = "#fef3c7"
REASON_LIMIT = 200  # what the core keeps of a take-over reason


def following_text(name: str) -> str:
    """'王五 跟进中' / 'Followed by 王五'."""
    return translate("Team", "{name} 跟进中").replace("{name}", name)


def blocked_text(name: str) -> str:
    """Tooltip of a chase/star button on another agent's buyer."""
    return translate("Team", "{name} 跟进中：先“接手”才能催单或标星").replace("{name}", name)


def outcome_blocked_text(name: str) -> str:
    """Tooltip of 回复了 / 已付款 / 流失 / 暂停跟进 on another agent's buyer."""
    return translate("Team", "{name} 跟进中：先“接手”才能记录跟进结果").replace("{name}", name)


def orders_blocked_text(name: str) -> str:
    """Tooltip of the order buttons (添加 / 已付款 / 已关闭) on another agent's buyer."""
    return translate("Team", "{name} 跟进中：先“接手”才能添加订单或标记付款、关闭").replace("{name}", name)


def tag_html(name: str) -> str:
    """The tag as rich text, for labels that already show the nickname."""
    return (f'<span style="background-color:{TAG_BG}; color:{TAG_FG}; font-size:11px;">'
            f'&nbsp;{html.escape(following_text(name))}&nbsp;</span>')


TAG_STYLE = (f"#HolderTag {{ color: {TAG_FG}; background: {TAG_BG}; border-radius: 8px; padding: 1px 7px;"
             f" font-size: 11px; }}")


def tag_label(parent: QWidget | None = None) -> QLabel:
    """A hidden label styled as the tag; set_tag fills and shows it."""
    label = QLabel(parent, objectName="HolderTag")
    label.setStyleSheet(TAG_STYLE)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.hide()
    return label


def set_tag(label: QLabel, name: str | None) -> None:
    label.setText(following_text(name) if name else "")
    label.setVisible(bool(name))


class TakeOverDialog(QDialog):
    """接手: who follows the buyer now, what a take-over means, and an optional reason for the log."""

    def __init__(self, holder: str, nickname: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TakeOverDialog")
        self.holder = holder
        self.setWindowTitle(translate("Team", "接手买家"))
        self.setMinimumWidth(340)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setText(
            f"<b>{html.escape(nickname)}</b> {tag_html(holder)}<br>"
            + html.escape(translate("Team", "接手后由你跟进这位买家，{name} 不能再催单。团队会记录这次接手。")
                          .replace("{name}", holder)))
        layout.addWidget(self.text)
        self.reason = QLineEdit()
        self.reason.setMaxLength(REASON_LIMIT)
        self.reason.setPlaceholderText(translate("Team", "接手原因（可不填），例如：买家点名找我"))
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(translate("Team", "接手"))
        ok.setObjectName("Primary")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(translate("Team", "取消"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setStyleSheet(f"QLabel {{ color: {style.TEXT}; }}")

    def reason_text(self) -> str:
        return self.reason.text().strip()
