"""The 交接 tab: the current shift (开始上班 / 交班), the previous shift's messages, KPI cards for the
shift or the day (with a small chart of chases by angle and the most pasted replies), the work log
(automatic items and the agent's own 今日问题 / 顾客需求 / 备注 entries), and the handover actions
(交班导出, 导入交接, 计算器; with a team server also 交班给同事).

Designed for the panel's width (~360 px): one scrolling column of cards. Every read and write is a
job on the StoreWorker; one snapshot job (keyed, so a newer one supersedes) feeds the whole page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import aftersales, handover, kpi, reminders, settings, shifts, zones
from ...core.clock import from_db
from ...core.store import Store
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from .. import tabs
from ..widgets import i18n, icons, style
from ..widgets.widgets import ElidedLabel
from .handover_dialogs import (
    CalculatorDialog,
    EntryDialog,
    ExportDialog,
    FileChooser,
    FolderChooser,
    ImportDialog,
    Opener,
    TeamHandoverDialog,
    ask_file,
    ask_folder,
    documents_dir,
    open_in_file_manager,
    team_mode,
)

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

LOG_PAGE = 40  # log rows shown at first; 显示更多 adds as many again
LOG_LIMIT = 500
TOP_SHOWN = 5

# The agent's entry kinds, labelled in the interface language.
KIND_NAMES = {"problem": QT_TRANSLATE_NOOP("Handover", "今日问题"),
              "request": QT_TRANSLATE_NOOP("Handover", "顾客需求"),
              "note": QT_TRANSLATE_NOOP("Handover", "备注")}
ANGLE_SHORT = {"product": QT_TRANSLATE_NOOP("Handover", "卖点"), "price": QT_TRANSLATE_NOOP("Handover", "价格"),
               "logistics": QT_TRANSLATE_NOOP("Handover", "物流"), "gift": QT_TRANSLATE_NOOP("Handover", "赠品"),
               "ask": QT_TRANSLATE_NOOP("Handover", "询问"), "none": QT_TRANSLATE_NOOP("Handover", "未标")}
# Chip colours (background, text) of the log's kinds.
CHIPS = {"problem": ("#fef2f2", "#b91c1c"), "request": ("#eff6ff", "#1d4ed8"), "note": ("#f1f5f9", "#475569"),
         "paste": ("#f1f5f9", "#64748b"), "chase": ("#fff7ed", "#c2410c"), "starred": ("#fefce8", "#a16207"),
         "paid": ("#f0fdf4", "#15803d"), "lost": ("#fef2f2", "#b91c1c"), "handover_out": ("#f5f3ff", "#6d28d9"),
         "handover_in": ("#f5f3ff", "#6d28d9"), "shift_start": ("#ecfeff", "#0e7490"),
         "shift_end": ("#ecfeff", "#0e7490")}
DEFAULT_CHIP = ("#f1f5f9", "#64748b")

CSS = f"""
#HandoverPage, #HandoverBody {{ background: {style.BG}; }}
QScrollArea#HandoverScroll {{ background: transparent; border: none; }}
#Card {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 8px; }}
#PrevCard {{ background: {style.WARN_BG}; border: 1px solid #fde68a; border-radius: 8px; }}
#PrevCard QLabel {{ background: transparent; }}
#CardTitle {{ color: {style.TEXT_2}; font-size: 12px; font-weight: 600; }}
#AgentName {{ font-size: 16px; font-weight: 600; }}
#AgentName[unset="true"] {{ color: {style.TEXT_3}; font-weight: 400; font-size: 14px; }}
#ShiftMeta {{ color: {style.TEXT_2}; font-size: 12px; }}
#Pill {{ border-radius: 9px; padding: 1px 8px; font-size: 11px; }}
#Pill[state="open"] {{ background: {style.OK_BG}; color: {style.OK}; border: 1px solid #bbf7d0; }}
#Pill[state="closed"] {{ background: #f1f5f9; color: {style.TEXT_2}; border: 1px solid {style.BORDER}; }}
#LinkButton {{ border: none; background: transparent; color: {style.ACCENT}; padding: 0; font-size: 12px; }}
#LinkButton:hover {{ text-decoration: underline; background: transparent; }}
#Action {{ padding: 5px 6px; }}
#KpiCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 8px; }}
#KpiValue {{ font-size: 19px; font-weight: 700; color: {style.TEXT}; }}
#KpiValue[tone="good"] {{ color: {style.OK}; }}
#KpiValue[tone="bad"] {{ color: {style.ERROR}; }}
#KpiLabel {{ color: {style.TEXT_2}; font-size: 12px; }}
#KpiSub {{ color: {style.TEXT_3}; font-size: 11px; }}
QPushButton#Seg {{ border-radius: 0; padding: 2px 10px; min-height: 16px; font-size: 12px; color: {style.TEXT_2}; }}
QPushButton#Seg[pos="first"] {{ border-top-left-radius: 6px; border-bottom-left-radius: 6px; }}
QPushButton#Seg[pos="last"] {{ border-top-right-radius: 6px; border-bottom-right-radius: 6px; border-left: none; }}
QPushButton#Seg[pos="mid"] {{ border-left: none; }}
QPushButton#Seg:checked {{ background: {style.ACCENT_SOFT}; color: {style.ACCENT}; border-color: #bfdbfe; font-weight: 600; }}
#LogInput {{ padding: 5px 6px; }}
#LogRow {{ background: transparent; border-bottom: 1px solid #f1f5f9; }}
#LogTime {{ color: {style.TEXT_3}; font-size: 11px; }}
#LogText {{ font-size: 13px; }}
#LogDetail {{ color: {style.TEXT_3}; font-size: 11px; }}
#Chip {{ border-radius: 4px; padding: 1px 5px; font-size: 11px; }}
#TopRank {{ color: {style.TEXT_3}; font-size: 11px; }}
#TopCount {{ color: {style.TEXT_2}; font-size: 12px; font-weight: 600; }}
#Empty {{ color: {style.TEXT_3}; font-size: 12px; padding: 10px 0; }}
"""


def item_label(item: shifts.LogItem) -> str:
    return kind_name(item.kind) if item.source == "agent" else i18n.pick(item.label, item.label_en)


def kind_name(code: str) -> str:
    return translate("Handover", KIND_NAMES[code]) if code in KIND_NAMES else code


# ================================================================ data (worker thread)

@dataclass
class Snapshot:
    now: datetime
    tz: tzinfo
    agent: str
    shift: shifts.Shift | None
    scope: str  # "shift" | "day"
    kpis: kpi.Kpis
    items: list[shifts.LogItem] = field(default_factory=list)
    previous: list[shifts.Entry] = field(default_factory=list)
    previous_at: datetime | None = None
    clock_fix: shifts.ClockFix | None = None  # a shift from the future was replaced: tell the agent
    team: bool = False  # a team server is configured: 交班给同事 is offered
    aftersales: aftersales.Kpis | None = None  # the same period's after-sales figures, with the one before


def load_snapshot(store: Store, scope: str, ensure: bool = False) -> Snapshot:
    """Everything the tab shows, in one job. ensure=True starts the day's shift if none is open."""
    clock_fix = shifts.open_day(store) if ensure else None
    now = store.clock.now().astimezone(timezone.utc)
    try:
        tz = reminders.get_config(store).agent_tz
    except Exception:  # noqa: BLE001 - a bad zone setting must not hide the tab; local time then
        log.warning("agent time zone unreadable; using this computer's")
        tz = datetime.now().astimezone().tzinfo or timezone.utc
    shift = shifts.current_shift(store)
    if scope == "shift" and shift is not None:
        since, until = shift.started_at, max(now, shift.started_at)
        kpis = kpi.for_shift(store, shift, now, tz)
    else:
        scope = "day"
        since, until = zones.day_window(now.astimezone(tz).date(), tz)
        kpis = kpi.for_day(store, now.astimezone(tz).date(), tz)
        until = min(until, now)
    items = shifts.activity(store, since, until + timedelta(seconds=1), limit=LOG_LIMIT)
    previous = shifts.last_imported_entries(store)
    previous_at = None
    if previous:
        rows = store.query("SELECT at FROM handovers WHERE id = ?", (previous[0].handover_id,))
        previous_at = from_db(rows[0]["at"]) if rows else None
    after = aftersales.kpis(store, since, until + timedelta(seconds=1))  # [since, until): what happened just now too
    return Snapshot(now, tz, shifts.agent_name(store), shift, scope, kpis, items, previous, previous_at, clock_fix,
                    team_mode(store), after)


# ================================================================ small widgets

def _label(name: str, text: str = "", wrap: bool = False) -> QLabel:
    label = QLabel(text, objectName=name)
    label.setWordWrap(wrap)
    return label


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _card(name: str = "Card") -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame(objectName=name)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 10, 12, 10)
    layout.setSpacing(6)
    return frame, layout


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return translate("Handover", "{n} 秒").replace("{n}", f"{seconds:.0f}")
    if seconds < 3600:
        return translate("Handover", "{n} 分钟").replace("{n}", f"{seconds / 60:.1f}".rstrip("0").rstrip("."))
    return translate("Handover", "{n} 小时").replace("{n}", f"{seconds / 3600:.1f}".rstrip("0").rstrip("."))


def span_text(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return translate("Handover", "{h} 小时 {m} 分").replace("{h}", str(hours)).replace("{m}", str(minutes))
    return translate("Handover", "{m} 分钟").replace("{m}", str(minutes))


class KpiCard(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("KpiCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 7, 8, 7)
        layout.setSpacing(0)
        self.value = _label("KpiValue", "0")
        self.caption = _label("KpiLabel")
        self.sub = _label("KpiSub")
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        for label in (self.caption, self.sub):  # wrap rather than widen the page (English captions are long)
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.sub)  # always there (a space when empty): the cards of a row stay one height
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set(self, value: str, caption: str, sub: str = "", tone: str = "") -> None:
        self.value.setText(value)
        self.caption.setText(caption)
        self.sub.setText(sub or " ")
        if self.value.property("tone") != tone:
            self.value.setProperty("tone", tone)
            _repolish(self.value)


class AngleBars(QWidget):
    """Chases by angle: one thin horizontal bar a row (卖点 / 价格 / 物流 / 赠品 / 询问 / 未标)."""

    ROW = 17
    COLOURS = {"product": "#2563eb", "price": "#f59e0b", "logistics": "#0891b2", "gift": "#db2777",
               "ask": "#7c3aed", "none": "#94a3b8"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts: dict[str, int] = dict.fromkeys(kpi.ANGLE_KEYS, 0)
        self.setFixedHeight(self.ROW * len(kpi.ANGLE_KEYS))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts = {k: int(counts.get(k, 0)) for k in kpi.ANGLE_KEYS}
        self.setToolTip(" · ".join(f"{translate('Handover', ANGLE_SHORT[k])} {v}" for k, v in self.counts.items()))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(11)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        labels = {k: translate("Handover", ANGLE_SHORT[k]) for k in kpi.ANGLE_KEYS}
        label_w = max(metrics.horizontalAdvance(t) for t in labels.values()) + 8
        count_w = metrics.horizontalAdvance("0000") + 4
        bar_w = max(10, self.width() - label_w - count_w)
        top = max(self.counts.values()) or 1
        for n, key in enumerate(kpi.ANGLE_KEYS):
            y = n * self.ROW
            painter.setPen(QColor(style.TEXT_2))
            painter.drawText(QRectF(0, y, label_w - 6, self.ROW), Qt.AlignmentFlag.AlignVCenter
                             | Qt.AlignmentFlag.AlignLeft, labels[key])
            track = QRectF(label_w, y + self.ROW / 2 - 4, bar_w, 8)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#f1f5f9"))
            painter.drawRoundedRect(track, 4, 4)
            value = self.counts[key]
            if value:
                fill = QRectF(track.x(), track.y(), max(8.0, bar_w * value / top), 8)
                painter.setBrush(QColor(self.COLOURS[key]))
                painter.drawRoundedRect(fill, 4, 4)
            painter.setPen(QColor(style.TEXT if value else style.TEXT_3))
            painter.drawText(QRectF(label_w + bar_w, y, count_w, self.ROW), Qt.AlignmentFlag.AlignVCenter
                             | Qt.AlignmentFlag.AlignRight, str(value))
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(240, self.ROW * len(kpi.ANGLE_KEYS))


class Chip(QLabel):
    def __init__(self, text: str, kind: str, parent: QWidget | None = None, width: int = 0) -> None:
        super().__init__(text, parent)
        self.setObjectName("Chip")
        if width:
            self.setFixedWidth(width)
            self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bg, fg = CHIPS.get(kind, DEFAULT_CHIP)
        self.setStyleSheet(f"background: {bg}; color: {fg};")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)


class LogRow(QFrame):
    """One line of the work log: time, kind chip, text (and detail); the agent's own entries have a
    ⋯ menu to edit or delete them."""

    def __init__(self, item: shifts.LogItem, tz: tzinfo, tab: HandoverTab, repeats: int = 1,
                 chip_width: int = 0) -> None:
        super().__init__()
        self.setObjectName("LogRow")
        self.item = item
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 5, 0, 5)
        layout.setSpacing(6)
        when = _label("LogTime", item.at.astimezone(tz).strftime("%H:%M"))
        when.setFixedWidth(32)
        layout.addWidget(when, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(Chip(item_label(item), item.kind, width=chip_width), 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(1)
        self.text = _label("LogText", item.subject, wrap=item.source == "agent")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        texts.addWidget(self.text)
        detail_text = "" if item.kind == "paste" else item.detail
        if repeats > 1:
            detail_text = translate("Handover", "连续 %n 次", None, repeats) + (" · " + detail_text if detail_text else "")
        if detail_text:
            detail = _label("LogDetail", detail_text)
            detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            texts.addWidget(detail)
        layout.addLayout(texts, 1)
        if item.source == "agent" and item.entry_id is not None:
            self.more = QToolButton()
            self.more.setIcon(icons.icon("menu", style.TEXT_3))
            self.more.setIconSize(QSize(14, 14))
            self.more.setFixedSize(22, 22)
            self.more.setToolTip(translate("Handover", "编辑或删除"))
            self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(self.more)
            menu.addAction(icons.icon("edit"), translate("Handover", "编辑…"), lambda: tab.edit_entry(item))
            menu.addAction(icons.icon("trash", style.ERROR), translate("Handover", "删除"),
                           lambda: tab.delete_entry(item))
            self.more.setMenu(menu)
            layout.addWidget(self.more, 0, Qt.AlignmentFlag.AlignTop)
        if item.source == "auto":
            self.setToolTip(f"{item.subject}  {item.detail}".strip())


class SegmentedButtons(QWidget):
    """A row of exclusive checkable buttons (本班 | 今天, 今日问题 | 顾客需求 | 备注)."""

    def __init__(self, keys: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        for n, key in enumerate(keys):
            button = QPushButton(objectName="Seg", checkable=True)
            button.setProperty("pos", "first" if n == 0 else "last" if n == len(keys) - 1 else "mid")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.group.addButton(button, n)
            self.buttons[key] = button
            layout.addWidget(button)
        self.buttons[keys[0]].setChecked(True)

    def current(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def set_current(self, key: str) -> None:
        self.buttons[key].setChecked(True)


# ================================================================ the tab

class HandoverTab(QWidget):
    #: (key, label) for Panel.add_tab
    TAB = tabs.HANDOVER

    #: the agent wants to set their name (agent.name): app.py opens the settings dialog
    settings_requested = Signal()
    #: a handover was imported (buyers and reminders changed)
    imported = Signal(object)
    #: a snapshot was shown (tests wait for it)
    refreshed = Signal()

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, *,
                 choose_folder: FolderChooser | None = None, choose_file: FileChooser | None = None,
                 open_folder: Opener | None = None, messages: MessageBridge | None = None) -> None:
        super().__init__(parent)
        #: messages for the agent (zh, en, level): the app's bridge, which the panel shows
        self.messages = messages if messages is not None else MessageBridge(self)
        self.setObjectName("HandoverPage")
        self.setStyleSheet(CSS)
        self.worker = worker
        self.choose_folder = choose_folder or ask_folder
        self.choose_file = choose_file or ask_file
        self.open_folder = open_folder or open_in_file_manager
        self.snapshot: Snapshot | None = None
        self.last_folder: str | None = None
        # The folder of the last export is remembered across restarts (setting handover.dir).
        self.worker.submit(lambda store: settings.get(store, "handover.dir"), self._set_last_folder)
        self.dialogs: list[QWidget] = []
        self._first_show = True
        self._dirty = True
        self._shown_rows = LOG_PAGE
        self._prev_collapsed_for: int | None = None
        self._build()
        self._tick = QTimer(self, interval=60_000)
        self._tick.timeout.connect(self.refresh)
        self._soon = QTimer(self, singleShot=True, interval=250)
        self._soon.timeout.connect(self.refresh)
        worker.data_changed.connect(self.refresh_soon)
        self._retranslate()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(objectName="HandoverScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll)
        body = QWidget(objectName="HandoverBody")
        self.scroll.setWidget(body)
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 4, 8)
        col.setSpacing(8)

        # --- shift card
        card, lay = _card()
        head = QHBoxLayout()
        self.shift_title = _label("CardTitle")
        self.pill = _label("Pill")
        head.addWidget(self.shift_title)
        head.addStretch(1)
        head.addWidget(self.pill)
        lay.addLayout(head)
        name_row = QHBoxLayout()
        self.agent_label = _label("AgentName")
        self.set_name = QPushButton(objectName="LinkButton")
        self.set_name.setCursor(Qt.CursorShape.PointingHandCursor)
        self.set_name.clicked.connect(self.settings_requested.emit)
        name_row.addWidget(self.agent_label)
        name_row.addWidget(self.set_name, 0, Qt.AlignmentFlag.AlignBottom)
        name_row.addStretch(1)
        lay.addLayout(name_row)
        self.shift_meta = _label("ShiftMeta", wrap=True)
        lay.addWidget(self.shift_meta)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.start_button = QPushButton(objectName="Primary")
        self.start_button.setIcon(icons.icon("clock", "#ffffff"))
        self.start_button.clicked.connect(self.start_shift)
        self.end_button = QPushButton(objectName="Primary")
        self.end_button.setIcon(icons.icon("handover", "#ffffff"))
        self.end_button.clicked.connect(lambda: self.open_export(end_shift=True))
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.end_button, 1)
        lay.addLayout(buttons)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        self.export_button = QPushButton(objectName="Action")
        self.export_button.setIcon(icons.icon("export"))
        self.export_button.clicked.connect(lambda: self.open_export(end_shift=False))
        self.import_button = QPushButton(objectName="Action")
        self.import_button.setIcon(icons.icon("import"))
        self.import_button.clicked.connect(lambda: self.open_import())
        self.calc_button = QPushButton(objectName="Action")
        self.calc_button.setIcon(icons.icon("list"))
        self.calc_button.clicked.connect(self.open_calculator)
        # Team mode only (shown by _show): the buyers and reminders go to a colleague, no file needed.
        self.team_button = QPushButton(objectName="Action")
        self.team_button.setIcon(icons.icon("users"))
        self.team_button.clicked.connect(self.open_team_handover)
        self.team_button.hide()
        for b in (self.start_button, self.end_button, self.export_button, self.import_button, self.calc_button,
                  self.team_button):
            b.setIconSize(QSize(15, 15))
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for b in (self.export_button, self.import_button, self.calc_button):
            actions.addWidget(b, 1)
        lay.addLayout(actions)
        lay.addWidget(self.team_button)
        col.addWidget(card)

        # --- previous shift's messages
        self.prev_card, prev = _card("PrevCard")
        prev_head = QHBoxLayout()
        self.prev_title = _label("CardTitle")
        self.prev_title.setStyleSheet(f"color: {style.WARN};")
        self.prev_toggle = QPushButton(objectName="LinkButton")
        self.prev_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        self.prev_toggle.clicked.connect(self._toggle_previous)
        prev_head.addWidget(self.prev_title, 1)
        prev_head.addWidget(self.prev_toggle)
        prev.addLayout(prev_head)
        self.prev_list = QVBoxLayout()
        self.prev_list.setSpacing(4)
        prev.addLayout(self.prev_list)
        self.prev_card.hide()
        col.addWidget(self.prev_card)

        # --- KPIs
        kpi_head = QHBoxLayout()
        self.kpi_title = _label("SectionTitle")
        self.scope = SegmentedButtons(["shift", "day"])
        self.scope.group.idClicked.connect(lambda _id: self.refresh())
        kpi_head.addWidget(self.kpi_title)
        kpi_head.addStretch(1)
        kpi_head.addWidget(self.scope)
        col.addLayout(kpi_head)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.cards: dict[str, KpiCard] = {}
        for n, key in enumerate(("pastes", "starred", "chases", "paid", "lost", "missed")):
            self.cards[key] = KpiCard()
            grid.addWidget(self.cards[key], n // 3, n % 3)
        for key in ("conversion", "delay"):
            self.cards[key] = KpiCard()
        wide = QHBoxLayout()
        wide.setSpacing(6)
        wide.addWidget(self.cards["conversion"], 1)
        wide.addWidget(self.cards["delay"], 1)
        for c in range(3):
            grid.setColumnStretch(c, 1)
        col.addLayout(grid)
        col.addLayout(wide)

        chart, chart_lay = _card()
        self.angle_title = _label("CardTitle")
        chart_lay.addWidget(self.angle_title)
        self.angles = AngleBars()
        chart_lay.addWidget(self.angles)
        col.addWidget(chart)

        # --- after-sales (core/aftersales.kpis): this period beside the one before
        self.as_title = _label("SectionTitle")
        col.addWidget(self.as_title)
        as_grid = QGridLayout()
        as_grid.setSpacing(6)
        self.as_cards: dict[str, KpiCard] = {}
        for n, key in enumerate(("open", "closed", "median", "compensation", "refunds", "escalations")):
            self.as_cards[key] = KpiCard()
            as_grid.addWidget(self.as_cards[key], n // 3, n % 3)
        for c in range(3):
            as_grid.setColumnStretch(c, 1)
        col.addLayout(as_grid)
        self.as_reasons = _label("KpiLabel", wrap=True)
        self.as_reasons.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        col.addWidget(self.as_reasons)

        top, top_lay = _card()
        top_head = QHBoxLayout()
        self.top_title = _label("CardTitle")
        self.top_more = QPushButton(objectName="LinkButton")
        self.top_more.setCursor(Qt.CursorShape.PointingHandCursor)
        self.top_more.setCheckable(True)
        self.top_more.toggled.connect(lambda _on: self._show_top())
        top_head.addWidget(self.top_title, 1)
        top_head.addWidget(self.top_more)
        top_lay.addLayout(top_head)
        self.top_rows = QVBoxLayout()
        self.top_rows.setSpacing(3)
        top_lay.addLayout(self.top_rows)
        col.addWidget(top)

        # --- work log
        log_card, log_lay = _card()
        log_head = QHBoxLayout()
        self.log_title = _label("CardTitle")
        self.log_count = _label("Hint")
        log_head.addWidget(self.log_title)
        log_head.addStretch(1)
        log_head.addWidget(self.log_count)
        log_lay.addLayout(log_head)
        self.kind = SegmentedButtons(list(shifts.ENTRY_KINDS))
        log_lay.addWidget(self.kind, 0, Qt.AlignmentFlag.AlignLeft)
        entry_row = QHBoxLayout()
        entry_row.setSpacing(4)
        self.entry = QLineEdit(objectName="LogInput")
        self.entry.setMaxLength(shifts.MAX_ENTRY)
        self.entry.returnPressed.connect(self.add_entry)
        self.entry.textChanged.connect(lambda t: self.add_button.setEnabled(bool(t.strip())))
        self.add_button = QToolButton()
        self.add_button.setIcon(icons.icon("plus", style.ACCENT))
        self.add_button.setIconSize(QSize(18, 18))
        self.add_button.setFixedSize(30, 30)
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_entry)
        entry_row.addWidget(self.entry, 1)
        entry_row.addWidget(self.add_button)
        log_lay.addLayout(entry_row)
        self.log_rows = QVBoxLayout()
        self.log_rows.setSpacing(0)
        log_lay.addLayout(self.log_rows)
        self.log_empty = _label("Empty", wrap=True)
        self.log_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        log_lay.addWidget(self.log_empty)
        self.more_button = QPushButton(objectName="LinkButton")
        self.more_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.more_button.clicked.connect(self._show_more)
        self.more_button.hide()
        log_lay.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(log_card)
        col.addStretch(1)

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.shift_title.setText(translate("Handover", "当前班次"))
        self.set_name.setText(translate("Handover", "设置昵称"))
        self.start_button.setText(translate("Handover", "开始上班"))
        self.end_button.setText(translate("Handover", "交班"))
        self.end_button.setToolTip(translate("Handover", "导出交接文件并结束本班次"))
        self.export_button.setText(translate("Handover", "导出"))
        self.export_button.setToolTip(translate("Handover", "导出交接文件（HTML / Excel / JSON），不结束班次"))
        self.import_button.setText(translate("Handover", "导入"))
        self.import_button.setToolTip(translate("Handover", "导入上一班的交接文件 (JSON)"))
        self.calc_button.setText(translate("Handover", "计算器"))
        self.calc_button.setToolTip(translate("Handover", "销售额与大促排班计算"))
        self.team_button.setText(translate("Handover", "交班给同事…"))
        self.team_button.setToolTip(translate("Handover", "把我跟进的买家和提醒交给同事或店铺待接池（团队服务器）"))
        self.prev_title.setText(translate("Handover", "上一班留言"))
        self.kpi_title.setText(translate("Handover", "数据"))
        self.scope.buttons["shift"].setText(translate("Handover", "本班"))
        self.scope.buttons["day"].setText(translate("Handover", "今天"))
        self.angle_title.setText(translate("Handover", "催单角度"))
        self.top_title.setText(translate("Handover", "常用回复"))
        self.as_title.setText(translate("Handover", "售后（与上期相比）"))
        self.log_title.setText(translate("Handover", "工作日志"))
        for code, button in self.kind.buttons.items():
            button.setText(kind_name(code))
        self.entry.setPlaceholderText(translate("Handover", "记一笔：遇到的问题、顾客想要的… Enter 保存"))
        self.add_button.setToolTip(translate("Handover", "添加到日志 (Enter)"))
        self.more_button.setText(translate("Handover", "显示更多"))
        if self.snapshot is not None:
            self._show(self.snapshot)
        else:
            self.agent_label.setText("")
            self.shift_meta.setText(translate("Handover", "正在读取…"))
            self._set_shift_state(None)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------ showing and refreshing

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        self._tick.start()
        if self._first_show:
            self._first_show = False
            self.refresh(ensure=True)
        elif self._dirty:
            self.refresh()

    def hideEvent(self, event) -> None:  # noqa: ANN001
        super().hideEvent(event)
        self._tick.stop()

    def refresh_soon(self) -> None:
        if self.isVisible():
            self._soon.start()
        else:
            self._dirty = True

    def refresh(self, ensure: bool = False) -> None:
        scope = self.scope.current()
        self._dirty = False
        self.worker.submit(lambda store: load_snapshot(store, scope, ensure), self._show, self._on_error,
                           key="handover-snapshot", write=ensure)

    def _on_error(self, exc: KnownError) -> None:
        self.messages.post(exc.zh, exc.en, "warning")

    def _set_shift_state(self, shift: shifts.Shift | None) -> None:
        is_open = shift is not None and shift.open
        self.pill.setProperty("state", "open" if is_open else "closed")
        self.pill.setText(translate("Handover", "进行中") if is_open else translate("Handover", "未上班"))
        _repolish(self.pill)
        self.start_button.setVisible(not is_open)
        self.end_button.setVisible(is_open)

    def _show(self, snap: Snapshot) -> None:
        self.snapshot = snap
        if snap.clock_fix is not None:
            self.messages.post(snap.clock_fix.zh, snap.clock_fix.en, "warning")
        tz = snap.tz
        shift = snap.shift
        self._set_shift_state(shift)
        agent = (shift.agent if shift is not None and shift.agent else snap.agent)
        self.agent_label.setText(agent or translate("Handover", "未设置客服昵称"))
        self.agent_label.setProperty("unset", "false" if agent else "true")
        _repolish(self.agent_label)
        self.set_name.setVisible(not agent)
        if shift is not None:
            started = shift.started_at.astimezone(tz)
            fmt = "%H:%M" if started.date() == snap.now.astimezone(tz).date() else "%m-%d %H:%M"
            self.shift_meta.setText(translate("Handover", "{start} 上班 · 已 {span}")
                                    .replace("{start}", started.strftime(fmt))
                                    .replace("{span}", span_text((snap.now - shift.started_at).total_seconds())))
        else:
            self.shift_meta.setText(translate("Handover", "还没有上班。开始上班后，粘贴、催单和标星都会记入本班。"))
        if self.scope.current() != snap.scope:
            self.scope.set_current(snap.scope)
        self.scope.buttons["shift"].setEnabled(shift is not None)
        self.team_button.setVisible(snap.team)
        self._show_previous(snap)
        self._show_kpis(snap.kpis)
        self._show_log(snap)
        self.refreshed.emit()

    def _show_previous(self, snap: Snapshot) -> None:
        _clear(self.prev_list)
        if not snap.previous:
            self.prev_card.hide()
            return
        handover_id = snap.previous[0].handover_id
        collapsed = self._prev_collapsed_for == handover_id
        first = snap.previous[0]
        when = snap.previous_at.astimezone(snap.tz).strftime("%m-%d %H:%M") if snap.previous_at else ""
        self.prev_title.setText(translate("Handover", "上一班留言 · {agent} {when}")
                                .replace("{agent}", first.agent or "").replace("{when}", when).replace("  ", " "))
        self.prev_toggle.setText(translate("Handover", "展开 (%n)", None, len(snap.previous)) if collapsed
                                 else translate("Handover", "收起"))
        if not collapsed:
            for entry in snap.previous:
                row = QHBoxLayout()
                row.setSpacing(6)
                row.addWidget(Chip(kind_name(entry.kind), entry.kind), 0, Qt.AlignmentFlag.AlignTop)
                text = _label("LogText", entry.text, wrap=True)
                text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                row.addWidget(text, 1)
                holder = QWidget()
                holder.setLayout(row)
                row.setContentsMargins(0, 0, 0, 0)
                self.prev_list.addWidget(holder)
        self.prev_card.show()

    def _toggle_previous(self) -> None:
        snap = self.snapshot
        if snap is None or not snap.previous:
            return
        hid = snap.previous[0].handover_id
        self._prev_collapsed_for = None if self._prev_collapsed_for == hid else hid
        self._show_previous(snap)

    def _show_kpis(self, k: kpi.Kpis) -> None:
        self.cards["pastes"].set(str(k.pastes), translate("Handover", "粘贴回复"))
        self.cards["starred"].set(str(k.starred), translate("Handover", "标星买家"))
        self.cards["chases"].set(str(k.chases), translate("Handover", "催单次数"))
        self.cards["paid"].set(str(k.paid_after_chase), translate("Handover", "催单后付款"),
                               translate("Handover", "共催 %n 人", None, k.chased_buyers) if k.chased_buyers else "",
                               "good" if k.paid_after_chase else "")
        self.cards["lost"].set(str(k.lost), translate("Handover", "流失"), "", "bad" if k.lost else "")
        self.cards["missed"].set(str(k.missed), translate("Handover", "错过提醒"),
                                 translate("Handover", "%n 条未处理", None, k.overdue_open) if k.overdue_open else "",
                                 "bad" if k.missed else "")
        conv = "—" if k.conversion is None else f"{k.conversion * 100:.0f}%"
        self.cards["conversion"].set(conv, translate("Handover", "催单转化率"),
                                     translate("Handover", "付款 %n 人（含未催）", None, k.paid) if k.paid else "")
        self.cards["delay"].set(duration_text(k.avg_delay_seconds), translate("Handover", "到点→处理 平均"),
                                translate("Handover", "共处理 %n 次", None, k.reminders_acted)
                                if k.reminders_acted else "")
        self.angles.set_counts(k.chases_by_angle)
        self._show_top()
        if self.snapshot is not None and self.snapshot.aftersales is not None:
            self._show_aftersales(self.snapshot.aftersales)

    def _show_aftersales(self, a: aftersales.Kpis) -> None:
        p = a.previous
        before = translate("Handover", "上期 {n}")

        def prev(value: str) -> str:
            return before.replace("{n}", value) if p is not None else ""

        self.as_cards["open"].set(str(a.open_now), translate("Handover", "未结售后"),
                                  translate("Handover", "本期新开 %n", None, a.opened) if a.opened else "",
                                  "bad" if a.open_now else "")
        self.as_cards["closed"].set(str(a.closed), translate("Handover", "已结案"), prev(str(p.closed) if p else ""))
        median = None if a.median_hours_to_close is None else a.median_hours_to_close * 3600
        self.as_cards["median"].set(duration_text(median), translate("Handover", "结案时长（中位）"),
                                    prev(duration_text(p.median_hours_to_close * 3600)
                                         if p and p.median_hours_to_close is not None else "—"))
        self.as_cards["compensation"].set(f"¥{aftersales.yuan(a.compensation_total)}", translate("Handover", "赔偿金额"),
                                          prev(f"¥{aftersales.yuan(p.compensation_total)}" if p else ""))
        self.as_cards["refunds"].set(str(a.refunds), translate("Handover", "退款"), prev(str(p.refunds) if p else ""),
                                     "bad" if p is not None and a.refunds > p.refunds else "")
        self.as_cards["escalations"].set(str(a.escalations), translate("Handover", "升级主管"),
                                         translate("Handover", "超权限 %n 次", None, a.blocked_offers)
                                         if a.blocked_offers else "")
        last = dict(p.refund_reasons) if p is not None else {}
        pairs = [(name, n, last.get(name, 0)) for name, n in a.refund_reasons]
        pairs += [(name, 0, n) for name, n in (p.refund_reasons if p else []) if name not in dict(a.refund_reasons)]
        line = translate("Handover", "{name} {n}（上期 {m}）")
        reasons = [line.replace("{name}", name).replace("{n}", str(n)).replace("{m}", str(m)) for name, n, m in pairs]
        self.as_reasons.setText(translate("Handover", "退款原因：{reasons}").replace(
            "{reasons}", i18n.pick("、", ", ").join(reasons)) if reasons else translate("Handover", "本期没有退款"))

    def _show_top(self) -> None:
        _clear(self.top_rows)
        snap = self.snapshot
        top = snap.kpis.top_replies if snap is not None else []
        expanded = self.top_more.isChecked()
        shown = top if expanded else top[:TOP_SHOWN]
        self.top_more.setVisible(len(top) > TOP_SHOWN)
        self.top_more.setText(translate("Handover", "收起") if expanded else translate("Handover", "全部 %n", None, len(top)))
        if not shown:
            self.top_rows.addWidget(_label("Empty", translate("Handover", "还没有粘贴过回复")))
            return
        for n, reply in enumerate(shown, 1):
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(6)
            rank = _label("TopRank", str(n))
            rank.setFixedWidth(14)
            title = ElidedLabel()
            title.setText(reply.title)
            title.setToolTip(reply.title)
            count = _label("TopCount", f"×{reply.count}")
            row.addWidget(rank)
            row.addWidget(title, 1)
            row.addWidget(count)
            holder = QWidget()
            holder.setLayout(row)
            self.top_rows.addWidget(holder)

    def _show_log(self, snap: Snapshot) -> None:
        _clear(self.log_rows)
        items = snap.items
        rows = collapse_repeats(items)
        shown = rows[: self._shown_rows]
        font = QFont(self.font())
        font.setPixelSize(11)
        metrics = QFontMetrics(font)
        width = min(96, max((metrics.horizontalAdvance(item_label(i)) for i, _n in shown), default=0) + 12)
        for item, repeats in shown:
            self.log_rows.addWidget(LogRow(item, snap.tz, self, repeats, width))
        own = sum(1 for i in items if i.source == "agent")
        self.log_count.setText(translate("Handover", "%n 条", None, len(items)) + (
            " · " + translate("Handover", "我记的 %n 条", None, own) if own else ""))
        self.log_empty.setVisible(not items)
        self.log_empty.setText(translate("Handover", "还没有记录。粘贴回复、催单、标星会自动记在这里；"
                                                     "遇到的问题和顾客需求请在上面记一笔。"))
        self.more_button.setVisible(len(rows) > len(shown))

    def _show_more(self) -> None:
        self._shown_rows += LOG_PAGE
        if self.snapshot is not None:
            self._show_log(self.snapshot)

    # ------------------------------------------------------------ actions

    def start_shift(self) -> None:
        def done(result: tuple[shifts.Shift, bool]) -> None:
            _shift, started = result
            if started:
                self.messages.post("已开始上班，祝顺利！", "Shift started. Have a good one!", "success")
            self.scope.set_current("shift")
            self.refresh()

        self.worker.submit(shifts.start_shift, done, self._on_error, write=True)

    def end_shift_now(self) -> None:
        """交班 without exporting (from the export dialog's secondary action or the CLI-like flow)."""
        def done(_shift: shifts.Shift) -> None:
            self.messages.post("已交班", "Shift ended", "success")
            self.refresh()

        self.worker.submit(lambda store: shifts.end_shift(store, how="explicit"), done, self._on_error, write=True)

    def add_entry(self) -> None:
        text = self.entry.text().strip()
        if not text:
            return
        kind = self.kind.current()

        def done(_entry: shifts.Entry) -> None:
            self.entry.clear()
            self.refresh()

        self.worker.submit(lambda store: shifts.add_entry(store, kind, text), done, self._on_error, write=True)

    def edit_entry(self, item: shifts.LogItem) -> None:
        entry_id = item.entry_id
        if entry_id is None:
            return
        dialog = EntryDialog(item.kind, item.subject, self)
        self.edit_dialog = dialog

        def accepted() -> None:
            kind, text = dialog.values()
            self.worker.submit(lambda store: shifts.edit_entry(store, entry_id, text, kind),
                               lambda _e: self.refresh(), self._on_error, write=True)

        dialog.accepted.connect(accepted)
        self._keep(dialog)
        dialog.open()

    def delete_entry(self, item: shifts.LogItem) -> None:
        entry_id = item.entry_id
        if entry_id is None:
            return

        def deleted(entry: shifts.Entry) -> None:
            self.refresh()
            self.messages.post("已删除一条日志", "Log entry deleted", "info")
            self._last_deleted = entry

        self.worker.submit(lambda store: shifts.delete_entry(store, entry_id), deleted, self._on_error, write=True)

    def _keep(self, dialog: QWidget) -> None:
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.finished.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)

    def open_export(self, end_shift: bool = False) -> ExportDialog:
        shift = self.snapshot.shift if self.snapshot is not None else None
        dialog = ExportDialog(self.worker, self, folder=self.last_folder, end_shift=end_shift,
                              shift_open=shift is not None and shift.open, choose_folder=self.choose_folder,
                              open_folder=self.open_folder)
        self.export_dialog = dialog
        dialog.exported.connect(self._on_exported)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _set_last_folder(self, folder: str) -> None:
        if folder and not self.last_folder:
            self.last_folder = folder

    def _on_exported(self, result: handover.ExportResult) -> None:
        self.last_folder = str(result.folder)
        folder = self.last_folder
        self.worker.submit(lambda store: settings.set(store, "handover.dir", folder), None, self._on_error, write=True)
        n = len(result.files)
        self.messages.post(f"交接文件已导出（{n} 个）", f"Handover exported ({n} files)", "success")
        self.refresh()

    def open_import(self, path: str | None = None) -> ImportDialog | None:
        if path is None:
            path = self.choose_file(self, self.last_folder or documents_dir())
        if not path:
            return None
        dialog = ImportDialog(self.worker, str(Path(path)), self)
        self.import_dialog = dialog
        dialog.imported.connect(self._on_imported)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _on_imported(self, plan: handover.ImportPlan) -> None:
        self._prev_collapsed_for = None
        self.messages.post(plan.summary("zh"), plan.summary("en"), "success")
        self.imported.emit(plan)
        self.refresh()

    def open_team_handover(self) -> TeamHandoverDialog:
        dialog = TeamHandoverDialog(self.worker, self)
        self.team_dialog = dialog
        dialog.handed_over.connect(self._on_handed_over)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _on_handed_over(self, moved: int, _role: str | None, name: str | None) -> None:
        buyers_en = f"{moved} buyer" + ("" if moved == 1 else "s")
        if name:
            self.messages.post(f"已交班：{moved} 位买家交给 {name}", f"Handed over {buyers_en} to {name}", "success")
        else:
            self.messages.post(f"已交班：{moved} 位买家交给店铺待接池", f"Handed over {buyers_en} to the shop's pool",
                               "success")
        self.refresh()

    def open_calculator(self) -> CalculatorDialog:
        dialog = CalculatorDialog(self)
        self.calculator = dialog
        self._keep(dialog)
        dialog.open()
        return dialog


def collapse_repeats(items: list[shifts.LogItem]) -> list[tuple[shifts.LogItem, int]]:
    """Consecutive pastes of one reply become one row with a count (the newest one shown)."""
    out: list[tuple[shifts.LogItem, int]] = []
    for item in items:
        if out and item.kind == "paste" and out[-1][0].kind == "paste" and out[-1][0].reply_id == item.reply_id \
                and out[-1][0].subject == item.subject:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((item, 1))
    return out


def _clear(layout: QVBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()

