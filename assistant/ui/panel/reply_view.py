"""The replies page's own views: the result-row painter (ReplyDelegate) and the preview with
highlighted fill-in fields (ReplyPreview)."""

from __future__ import annotations

import html

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTextBrowser, QWidget

from ..widgets import style
from ..widgets.widgets import PAD_X, body_html, paint_row_background
from .models import ROW_ROLE, compliance_label, shop_label
from .queries import ReplyRow

translate = QCoreApplication.translate


class ReplyPreview(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Preview")
        self.setOpenLinks(False)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self._row: ReplyRow | None = None
        self._refresh()

    def set_row(self, row: ReplyRow | None) -> None:
        self._row = row
        self._refresh()

    def row(self) -> ReplyRow | None:
        return self._row

    def _refresh(self) -> None:
        row = self._row
        if row is None:
            hint = translate("Preview", "选中一条回复即可在这里预览全文")
            self.setHtml(f'<p style="color:{style.TEXT_3};">{html.escape(hint)}</p>')
            return
        meta: list[str] = []
        if row.fields:
            meta.append(translate("Preview", "填空：{fields}").replace("{fields}", "、".join(row.fields)))
        meta.append(translate("Preview", "已用 %n 次", None, row.use_count))
        if row.language and row.language != "zh":
            meta.append(translate("Preview", "语言：{lang}").replace("{lang}", row.language))
        if row.platforms:
            meta.append(" · ".join(row.platforms))
        if row.shop:
            meta.insert(0, shop_label(row))
        flagged = compliance_label(row)
        warn = (f'<p style="color:{style.WARN}; font-size:11px; margin-top:8px;">⚠ {html.escape(flagged)}</p>'
                if flagged else "")
        self.setHtml(
            f'<div style="font-size:13px; line-height:150%; color:{style.TEXT};">{body_html(row.body)}</div>'
            f'{warn}<p style="color:{style.TEXT_3}; font-size:11px; margin-top:8px;">'
            f'{html.escape("  ·  ".join(meta))}</p>')

    def plain_text_of_body(self) -> str:
        return self._row.body if self._row else ""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._refresh()
        super().changeEvent(event)


ROW_HEIGHT = 54
COMPLIANCE_BG = "#fef3c7"  # amber, like the editor's compliance note


class ReplyDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if row is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        selected = paint_row_background(painter, option, accent_inset=10)

        base = QFont(option.font)
        small = QFont(base)
        small.setPixelSize(11)
        title_font = QFont(base)
        title_font.setPixelSize(13)
        title_font.setWeight(QFont.Weight.DemiBold)
        body_font = QFont(base)
        body_font.setPixelSize(12)

        left = rect.left() + PAD_X + 2
        right = rect.right() - PAD_X
        top_line = QRect(left, rect.top() + 7, right - left, 20)
        bottom_line = QRect(left, rect.top() + 29, right - left, 18)

        # Number for Alt+1..9
        n = index.row() + 1
        if n <= 9:
            painter.setFont(small)
            badge = QRect(left, top_line.top() + 2, 16, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(style.ACCENT if selected else "#e2e8f0"))
            painter.drawRoundedRect(QRectF(badge), 4, 4)
            painter.setPen(QColor("white" if selected else style.TEXT_2))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, str(n))
        text_left = left + 22

        # Badges from the right: compliance findings, shop (team mode), hotkey, then short code.
        x = right
        painter.setFont(small)
        fm_small = QFontMetrics(small)
        shop = translate("Team", "店铺") if row.shop else ""
        flagged = "⚠ " + translate("Compliance", "合规") if row.compliance else ""
        for text, fg, bg in ((flagged, style.WARN, COMPLIANCE_BG), (shop, style.SHOP_FG, style.SHOP_BG),
                             (row.hotkey, style.ACCENT, style.ACCENT_SOFT), (row.code, style.TEXT_2, "#f1f5f9")):
            if not text:
                continue
            width = fm_small.horizontalAdvance(text) + 10
            if x - width < text_left + 60:
                break
            badge = QRect(x - width, top_line.top() + 2, width, 17)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(bg))
            painter.drawRoundedRect(QRectF(badge), 4, 4)
            painter.setPen(QColor(fg))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            x = badge.left() - 4

        painter.setFont(title_font)
        painter.setPen(QColor(style.TEXT))
        title_rect = QRect(text_left, top_line.top(), x - text_left - 2, top_line.height())
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(title_font).elidedText(row.title, Qt.TextElideMode.ElideRight,
                                                             title_rect.width()))

        # Second line: first body line, group on the right.
        group = row.group_path.rsplit("/", 1)[-1]
        group_width = 0
        if group:
            group_width = min(fm_small.horizontalAdvance(group) + 4, bottom_line.width() // 3)
            painter.setFont(small)
            painter.setPen(QColor(style.TEXT_3))
            group_rect = QRect(right - group_width, bottom_line.top(), group_width, bottom_line.height())
            painter.drawText(group_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             fm_small.elidedText(group, Qt.TextElideMode.ElideLeft, group_width))
        painter.setFont(body_font)
        painter.setPen(QColor(style.TEXT_2))
        body_rect = QRect(text_left, bottom_line.top(), right - text_left - group_width - 8, bottom_line.height())
        painter.drawText(body_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(body_font).elidedText(row.first_line, Qt.TextElideMode.ElideRight,
                                                            body_rect.width()))
        painter.restore()


