"""The side panel: tabs 快捷回复 / 客户 / 提醒 / 交接, search-first and keyboard-driven.

The panel never reads the store itself: every read and write is a job on the StoreWorker (services/worker.py),
results come back by signal. It never takes keyboard focus when shown or refreshed
(WA_ShowWithoutActivating, no activateWindow) — only when the agent clicks into it or presses the
"focus search" hotkey (focus_search()).

Talking to the paste flow and hotkey map (services/): assistant.app.connect_panel() makes every
connection (the panel knows nothing of them): paste_requested, fields_filled/fields_cancelled, context_changed,
pause_hotkeys_toggled, replies_changed, settings_saved out; focus_search, add_reply_with_text,
ask_fields, show_message, set_hotkeys_paused, refresh_soon in. Without a paste flow
(set_paste_available never called) Enter copies to the clipboard and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QListView,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTabBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ...core import replies, search, settings, templates
from ...errors import KnownError, StoreError
from ...services.messages import Message, MessageBridge
from ...services.worker import StoreWorker
from ..team import queries as team_queries
from ..team.state import ConflictsNotice, TeamStateLabel
from ..widgets import docking, i18n, icons, style
from ..widgets.widgets import (
    ElidedLabel,
    MessageBar,
    SearchBox,
    panel_key,
)
from . import queries
from .models import FILTER_ROLE, ROW_ROLE, GroupsModel, ResultsModel
from .queries import GroupFilter, ReplyRow, Results
from .reply_view import ReplyDelegate, ReplyPreview

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

# Fields that belong to one buyer: never pre-filled from what was typed for another buyer.
# Values that belong to one buyer (the product they ask about, their order): remembered per buyer,
# never offered to another one. The others (coupon, deadline, courier…) are the shop's and are
# offered again to everybody.
# Settings applied as soon as they change in the store (the settings dialog applies them the same way).
LIVE_SETTINGS = ("ui.language", "ui.dock", "ui.attach_pattern", "ui.width", "ui.always_on_top")
BUYER_FIELDS = {"客户", "商品", "订单号", "金额", "卖点", "材质", "尺码"}  # 卖点/材质/尺码: the buyer's product
MAX_REMEMBERED_BUYERS = 200

# The replies page is the panel's own first tab; app.py adds the others with add_tab (each tab class
# names its key and label: BuyersTab.TAB...). Labels are sources in the "Tabs" context, translated on language change.
REPLIES_TAB = ("replies", QT_TRANSLATE_NOOP("Tabs", "快捷回复"))


class Panel(QWidget):
    #: paste this reply into the chat window (reply id, fill-in values) — the paste flow's paste_reply
    paste_requested = Signal(int, dict)
    #: the agent filled the fields the paste flow asked for: (the paste flow's token, values)
    fields_filled = Signal(int, dict)
    #: the agent cancelled that form (token)
    fields_cancelled = Signal(int)
    #: replies were created, edited, deleted or imported (per-reply hotkeys may have changed)
    replies_changed = Signal()
    #: the settings dialog saved; all declared settings with their new values
    settings_saved = Signal(dict)
    #: the editor is recording a chord: global hotkeys should be paused meanwhile
    hotkey_capture_active = Signal(bool)
    #: the tray's or the menu's "pause hotkeys" (True = paused)
    pause_hotkeys_toggled = Signal(bool)
    #: fill-in values known for the current buyer changed ({客户}, {订单号}…)
    context_changed = Signal(dict)
    quit_requested = Signal()

    def __init__(self, worker: StoreWorker, config: dict[str, Any], *, data_dir: Path | None = None,
                 version: str = "", locator: docking.Locator | None = None,
                 window_lister: Callable[[], list[tuple[str, str]]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Panel")
        self.worker = worker
        self.config: dict[str, Any] = {s.name: s.default for s in settings.DECLARED}
        self.config.update(config or {})
        # The settings as last read from the store: a value that changes there (kefu settings set,
        # or our own save) is applied; comparing with self.config instead would undo a resize that
        # is not saved yet.
        self._stored_settings: dict[str, Any] = dict(self.config)
        self._dock_warning: str | None = None
        self.data_dir = data_dir
        self.version = version
        self.window_lister = window_lister
        self.paste_available = False
        self.hotkeys_paused = False
        self.context: dict[str, str] = {}
        self._remembered: dict[str, str] = {}  # shop-wide fields typed into the form
        self._remembered_by_buyer: dict[str, dict[str, str]] = {}  # buyer's nickname -> their own fields
        self._filter = GroupFilter("all")
        self._results: Results | None = None
        self._library: queries.Library | None = None
        self._search_ready = True
        self._dialogs: list[QWidget] = []
        self.team: team_queries.TeamView = team_queries.NO_TEAM  # team mode as last read (NO_TEAM: none)
        self.team_sync: Any = None  # services.teamsync.TeamSync once team mode is wired (attach_team)
        self.team_link: Any = None  # ui.team.link.TeamLink (app.py): the settings dialog's 团队 page
        self._supervisor_dialog: QWidget | None = None
        self._bridges: list[MessageBridge] = []
        self._select_after_refresh: int | None = None
        self._splitter_sized = False
        self._placing = False
        self._hide_hint_shown = False
        self._tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable

        self.setWindowIcon(icons.app_icon())
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setMinimumWidth(260)
        self._build()
        self.docker = docking.Docker(self, locator)
        self.docker.fallback.connect(self._on_dock_fallback)
        self.docker.recovered.connect(self._on_dock_recovered)
        self.docker.placed.connect(self._on_placed)
        self._geometry_timer = QTimer(self, singleShot=True, interval=800)
        self._geometry_timer.timeout.connect(self._save_geometry)
        self._ready_timer = QTimer(self, interval=400)
        self._ready_timer.timeout.connect(self._check_search_ready)
        self._refresh_timer = QTimer(self, singleShot=True, interval=120)
        self._refresh_timer.timeout.connect(self.refresh)
        self.worker.data_changed.connect(self.refresh_soon)
        self.worker.known_error.connect(self.show_known_error)
        self.worker.write_waiting.connect(self._on_write_waiting)
        self._apply_window_flags(bool(self.config["ui.always_on_top"]), show=False)
        self._retranslate()
        self.refresh()

    # ================================================================ building

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        top = QFrame(objectName="TopBar")
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(6, 4, 6, 0)
        top_layout.setSpacing(2)
        self.tabs = QTabBar(objectName="MainTabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        # Squeezed (a narrow panel, a window frame, a longer language) the labels shorten ("Hand…")
        # instead of the last tab vanishing behind scroll arrows.
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.setIconSize(QSize(16, 16))
        top_layout.addWidget(self.tabs, 0, Qt.AlignmentFlag.AlignBottom)
        top_layout.addStretch(1)
        self.pin_button = QToolButton(checkable=True)
        self.pin_button.setIcon(icons.icon("pin", style.TEXT_3, active=style.ACCENT))
        self.pin_button.setIconSize(QSize(18, 18))
        self.pin_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pin_button.setChecked(bool(self.config["ui.always_on_top"]))
        self.pin_button.toggled.connect(self.set_always_on_top)
        self.menu_button = QToolButton()
        self.menu_button.setIcon(icons.icon("menu"))
        self.menu_button.setIconSize(QSize(18, 18))
        self.menu_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = self._build_menu()
        self.menu_button.setMenu(self.menu)
        top_layout.addWidget(self.pin_button, 0, Qt.AlignmentFlag.AlignVCenter)
        top_layout.addWidget(self.menu_button, 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addWidget(top)

        body = QWidget(objectName="PanelBody")
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(8, 8, 8, 6)
        body_layout.setSpacing(6)
        self.message_bar = MessageBar()
        body_layout.addWidget(self.message_bar)
        self.conflicts_notice = ConflictsNotice()
        self.conflicts_notice.clicked.connect(self.open_conflicts)
        body_layout.addWidget(self.conflicts_notice)
        self.pages = QStackedWidget()
        self._tab_keys: list[str] = []
        self._tab_labels: list[str] = []
        self.tabs.currentChanged.connect(self.pages.setCurrentIndex)
        self.add_tab(*REPLIES_TAB, self._build_replies_page())
        body_layout.addWidget(self.pages, 1)
        self.status = ElidedLabel(objectName="StatusLine")
        self.team_state = TeamStateLabel()
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.setSpacing(8)
        foot.addWidget(self.status, 1)
        foot.addWidget(self.team_state, 0)
        body_layout.addLayout(foot)
        outer.addWidget(body, 1)

        for seq, slot in ((QKeySequence.StandardKey.Find, self.focus_search), ("Ctrl+N", self.new_reply),
                          ("Ctrl+E", self.edit_current), ("Ctrl+D", self.duplicate_current),
                          ("Ctrl+,", self.open_settings)):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    def _build_replies_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        row = QHBoxLayout()
        row.setSpacing(4)
        self.search_box = SearchBox()
        self.search_box.textChanged.connect(self._on_query_changed)
        self.search_box.command.connect(self._on_command)
        self.add_button = QToolButton()
        self.add_button.setIcon(icons.icon("plus", style.ACCENT))
        self.add_button.setIconSize(QSize(20, 20))
        self.add_button.setFixedSize(34, 34)
        self.add_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A lambda: clicked(bool) would otherwise arrive as new_reply(body=False).
        self.add_button.clicked.connect(lambda: self.new_reply())
        row.addWidget(self.search_box, 1)
        row.addWidget(self.add_button)
        layout.addLayout(row)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(True)
        self.groups_model = GroupsModel(self)
        self.group_tree = QTreeView(objectName="GroupTree")
        self.group_tree.setModel(self.groups_model)
        self.group_tree.setHeaderHidden(True)
        self.group_tree.setIndentation(14)
        self.group_tree.setRootIsDecorated(True)
        self.group_tree.setUniformRowHeights(True)
        self.group_tree.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.group_tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.group_tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.group_tree.setAllColumnsShowFocus(True)
        self.group_tree.clicked.connect(self._on_group_clicked)
        self.group_tree.activated.connect(self._on_group_clicked)

        self.results_model = ResultsModel(self)
        self.results = QListView(objectName="ResultList")
        self.results.setModel(self.results_model)
        self.results.setItemDelegate(ReplyDelegate(self.results))
        self.results.setUniformItemSizes(True)
        self.results.setMouseTracking(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._row_menu)
        self.results.doubleClicked.connect(lambda index: self.activate_row(index.row()))
        self.results.selectionModel().currentChanged.connect(self._on_current_changed)
        self.results.installEventFilter(self)

        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.setSpacing(6)
        self.preview = ReplyPreview()
        preview_layout.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.paste_button = QPushButton(objectName="Primary")
        self.paste_button.setIcon(icons.icon("paste", "#ffffff"))
        self.copy_button = QPushButton()
        self.copy_button.setIcon(icons.icon("copy"))
        self.edit_button = QPushButton()
        self.edit_button.setIcon(icons.icon("edit"))
        for button in (self.paste_button, self.copy_button, self.edit_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setIconSize(QSize(15, 15))
        self.paste_button.clicked.connect(lambda: self.activate_row(self.current_row_number()))
        self.copy_button.clicked.connect(lambda: self.activate_row(self.current_row_number(), copy_only=True))
        self.edit_button.clicked.connect(self.edit_current)
        buttons.addWidget(self.paste_button, 1)
        buttons.addWidget(self.copy_button, 1)
        buttons.addWidget(self.edit_button, 1)
        preview_layout.addLayout(buttons)

        self.splitter.addWidget(self.group_tree)
        self.splitter.addWidget(self.results)
        self.splitter.addWidget(preview_box)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([130, 420, 150])
        layout.addWidget(self.splitter, 1)
        return page

    def _build_menu(self) -> QMenu:
        menu = QMenu(self)
        self.act_new = menu.addAction(icons.icon("plus"), "", self.new_reply)
        self.act_import = menu.addAction(icons.icon("import"), "", self.open_import)
        self.act_export = menu.addAction(icons.icon("export"), "", self.open_export)
        menu.addSeparator()
        self.dock_menu = menu.addMenu(icons.icon("dock-right"), "")
        self.dock_group = QActionGroup(self)
        self.dock_actions: dict[str, QAction] = {}
        for mode, icon_name in (("right", "dock-right"), ("left", "dock-left"), ("attach", "attach"),
                                ("free", "list")):
            action = self.dock_menu.addAction(icons.icon(icon_name), "")
            action.setCheckable(True)
            action.setData(mode)
            self.dock_group.addAction(action)
            self.dock_actions[mode] = action
        self.dock_actions.get(str(self.config["ui.dock"]), self.dock_actions["right"]).setChecked(True)
        self.dock_group.triggered.connect(lambda a: self.set_dock_mode(str(a.data())))
        self.act_on_top = menu.addAction(icons.icon("pin"), "")
        self.act_on_top.setCheckable(True)
        self.act_on_top.setChecked(bool(self.config["ui.always_on_top"]))
        self.act_on_top.toggled.connect(self.set_always_on_top)
        self.act_pause = menu.addAction(icons.icon("pause"), "")
        self.act_pause.setCheckable(True)
        self.act_pause.toggled.connect(self._on_pause_toggled)
        menu.addSeparator()
        self.act_team = menu.addAction(icons.icon("users"), "", self.open_supervisor)
        self.act_team.setVisible(False)  # supervisors with a team server only (_update_team_menu)
        self.act_settings = menu.addAction(icons.icon("settings"), "", self.open_settings)
        self.act_hide = menu.addAction(icons.icon("hide"), "", self.hide_panel)
        self.act_quit = menu.addAction(icons.icon("quit"), "", self.quit_requested.emit)
        return menu

    # ================================================================ language

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Panel", "客服助手"))
        for n, label in enumerate(self._tab_labels):
            self.tabs.setTabText(n, translate("Tabs", label))
        self.pin_button.setToolTip(translate("Panel", "窗口置顶"))
        self.menu_button.setToolTip(translate("Panel", "更多"))
        self.add_button.setToolTip(translate("Panel", "新建回复 (Ctrl+N)"))
        self.paste_button.setText(translate("Panel", "粘贴"))
        self.paste_button.setToolTip(translate("Panel", "粘贴到聊天窗口 (Enter)"))
        self.copy_button.setText(translate("Panel", "复制"))
        self.copy_button.setToolTip(translate("Panel", "只复制，不粘贴 (Ctrl+Enter)"))
        self.edit_button.setText(translate("Panel", "编辑"))
        self.edit_button.setToolTip(translate("Panel", "编辑这条回复 (Ctrl+E)"))
        self.act_new.setText(translate("Panel", "新建回复…"))
        self.act_new.setShortcut(QKeySequence("Ctrl+N"))
        self.act_import.setText(translate("Panel", "导入回复…"))
        self.act_export.setText(translate("Panel", "导出回复…"))
        self.dock_menu.setTitle(translate("Panel", "窗口位置"))
        self.dock_actions["right"].setText(translate("Panel", "停靠在屏幕右侧"))
        self.dock_actions["left"].setText(translate("Panel", "停靠在屏幕左侧"))
        self.dock_actions["attach"].setText(translate("Panel", "跟随聊天窗口"))
        self.dock_actions["free"].setText(translate("Panel", "自由摆放"))
        self.act_on_top.setText(translate("Panel", "窗口置顶"))
        self.act_pause.setText(translate("Panel", "暂停全局快捷键"))
        self.act_team.setText(translate("Supervisor", "团队管理…"))
        self.act_settings.setText(translate("Panel", "设置…"))
        self.act_hide.setText(translate("Panel", "隐藏面板"))
        self.act_quit.setText(translate("Panel", "退出客服助手"))
        self.groups_model.rebuild()
        self._after_groups_rebuilt()
        self._update_status()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # ================================================================ window, docking, focus

    def _apply_window_flags(self, on_top: bool, show: bool = True) -> None:
        visible = self.isVisible()
        flags = Qt.WindowType.Window | Qt.WindowType.WindowTitleHint | Qt.WindowType.WindowCloseButtonHint \
            | Qt.WindowType.WindowMinimizeButtonHint
        if on_top:
            flags |= Qt.WindowType.WindowStaysOnTopHint
        self.setWindowFlags(flags)
        if visible and show:
            self.show()  # changing flags hides the window; WA_ShowWithoutActivating keeps focus away

    def set_always_on_top(self, on: bool) -> None:
        on = bool(on)
        for widget in (self.pin_button, self.act_on_top):
            if widget.isChecked() != on:
                widget.blockSignals(True)
                widget.setChecked(on)
                widget.blockSignals(False)
        if bool(self.config.get("ui.always_on_top")) == on and \
                bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint) == on:
            return
        self.config["ui.always_on_top"] = on
        self._apply_window_flags(on)
        self._save_setting("ui.always_on_top", on)

    def is_always_on_top(self) -> bool:
        return bool(self.windowFlags() & Qt.WindowType.WindowStaysOnTopHint)

    def set_dock_mode(self, mode: str) -> None:
        if mode not in docking.MODES:
            return
        self.dock_actions[mode].setChecked(True)
        self.config["ui.dock"] = mode
        self._save_setting("ui.dock", mode)
        self.apply_placement()

    def apply_placement(self) -> None:
        mode = str(self.config["ui.dock"])
        width = int(self.config["ui.width"])
        if mode == "free":
            geo = self.config.get("ui.geometry")
            if isinstance(geo, list) and len(geo) == 4:
                self.setGeometry(QRect(*[int(v) for v in geo]))
            else:
                self.resize(width, min(760, self.docker.work_area().height()))
        self.docker.configure(mode, width, str(self.config.get("ui.attach_pattern") or ""))

    def set_window_locator(self, locator: docking.Locator | None,
                           lister: Callable[[], list[tuple[str, str]]] | None = None) -> None:
        """Inject how to find the chat window (platform code, from app.py)."""
        self.docker.locator = locator
        if lister is not None:
            self.window_lister = lister
        if self.config["ui.dock"] == "attach":
            self.apply_placement()

    def show_panel(self) -> None:
        """Show without taking focus (tray, second launch, hotkey-less)."""
        if self.isMinimized():
            self.showNormal()
        if not self.isVisible():
            self.show()
            self.apply_placement()
        self.raise_()

    def bring_forward(self) -> None:
        """A second launch of the app: the agent asked for the panel, so it may take focus."""
        self.show_panel()
        self.activateWindow()

    def hide_panel(self) -> None:
        self.hide()

    def toggle_visible(self) -> None:
        if self.isVisible() and not self.isMinimized():
            self.hide_panel()
        else:
            self.show_panel()

    def add_tab(self, key: str, label: str, widget: QWidget) -> None:
        """Append a tab: its key (for show_tab), its label (a source string in the "Tabs" context, marked
        with QT_TRANSLATE_NOOP where it is defined) and its page. app.py adds every tab but the replies page."""
        if key in self._tab_keys:
            raise ValueError(f"tab {key!r} added twice")
        self._tab_keys.append(key)
        self._tab_labels.append(label)
        self.pages.addWidget(widget)
        self.tabs.addTab(translate("Tabs", label))

    def show_tab(self, key: str) -> None:
        """Bring a tab forward (the panel itself is not shown: see show_panel)."""
        self.tabs.setCurrentIndex(self._tab_keys.index(key))

    def current_tab(self) -> str:
        return self._tab_keys[self.tabs.currentIndex()]

    def focus_search(self) -> None:
        """The one way (with a click) keyboard focus moves into the panel: the focus-search hotkey."""
        self.show_tab(REPLIES_TAB[0])
        self.show_panel()
        self.activateWindow()
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def suggest_for(self, message: str) -> None:
        """The suggestion hotkey: the buyer's message (copied from the chat client) goes into the search
        box, whose list then holds the replies for it, best first, ready for Enter or Alt+1..3. Typing
        replaces it (selected), as after the focus-search hotkey."""
        self._suggesting = message
        self.focus_search()
        self.search_box.setText(message)
        self.search_box.selectAll()

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if not self._splitter_sized:
            self._splitter_sized = True
            QTimer.singleShot(0, self._size_splitter)

    def _size_splitter(self) -> None:
        total = sum(self.splitter.sizes()) or self.splitter.height()
        tree = max(96, min(200, int(total * 0.2)))
        preview = max(120, min(220, int(total * 0.22)))
        self.splitter.setSizes([tree, max(120, total - tree - preview), preview])

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        if self._tray_available():
            self.hide()
            if not self._hide_hint_shown:
                self._hide_hint_shown = True
                log.info("panel hidden to the tray")
        else:
            self.showMinimized()

    def _on_placed(self, rect: QRect) -> None:
        self._placing = True
        QTimer.singleShot(0, lambda: setattr(self, "_placing", False))

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if self._placing or not self.isVisible():
            return
        if self.config["ui.dock"] != "free" and event.oldSize().isValid() \
                and event.size().width() != event.oldSize().width():
            self.config["ui.width"] = max(260, min(1200, self.frameGeometry().width()))
            self.docker.width = int(self.config["ui.width"])
        self._geometry_timer.start()

    def moveEvent(self, event) -> None:  # noqa: ANN001
        super().moveEvent(event)
        if not self._placing and self.isVisible() and self.config["ui.dock"] == "free":
            self._geometry_timer.start()

    def _save_geometry(self) -> None:
        if self.config["ui.dock"] == "free":
            g = self.geometry()
            value = [g.x(), g.y(), g.width(), g.height()]
            if value != self.config.get("ui.geometry"):
                self.config["ui.geometry"] = value
                self._save_setting("ui.geometry", value)
        else:
            self.docker.apply()
            self._save_setting("ui.width", int(self.config["ui.width"]))

    def _save_setting(self, name: str, value: Any) -> None:
        self.worker.submit(lambda store: settings.set(store, name, value), on_error=self.show_known_error)

    # ================================================================ data

    def refresh(self) -> None:
        """Re-read the group tree and re-run the current search (after a change), and the settings
        (kefu settings set while the panel runs)."""
        self.worker.submit(queries.library, self._on_library, key="library")
        self.worker.submit(settings.get_all, self._on_stored_settings, key="panel.settings")
        self.worker.submit(team_queries.load, self._on_team, key="panel.team")
        self._run_search()

    def _on_team(self, view: team_queries.TeamView) -> None:
        self.team = view
        self.conflicts_notice.set_count(len(view.conflicts))
        self.team_state.set_view(view)
        self._update_team_menu()

    def attach_team(self, team_sync: Any) -> None:
        """The live team sync (app.wire_team): the supervisor's 团队管理 dialog queries the server through it.
        None: the team was left (settings dialog): its state line and 团队管理 dialog go."""
        self.team_sync = team_sync
        if team_sync is None:
            self.set_team_state("")
            if self._supervisor_dialog is not None and self._supervisor_dialog in self._dialogs:
                self._supervisor_dialog.close()
            self.worker.submit(team_queries.load, self._on_team, key="panel.team")
        self._update_team_menu()

    def _update_team_menu(self) -> None:
        self.act_team.setVisible(self.team_sync is not None and self.team.kind == "supervisor")

    def set_team_state(self, state: str, detail: str = "") -> None:
        """Team mode's connection, from the sync service: "" (no team: hidden), "online", "syncing" or
        "offline" (the panel keeps working on the local store). detail: one more tooltip line."""
        self.team_state.set_state(state, detail)
        if state:
            self.worker.submit(team_queries.load, self._on_team, key="panel.team")  # outbox size, last sync

    def _on_stored_settings(self, values: dict[str, Any]) -> None:
        changed = {k: v for k, v in values.items() if self._stored_settings.get(k) != v}
        self._stored_settings = dict(values)
        if not changed:
            return
        live = {k: v for k, v in changed.items() if k in LIVE_SETTINGS and self.config.get(k) != v}
        self.config.update({k: v for k, v in changed.items() if k not in LIVE_SETTINGS})
        if live:
            log.info("settings changed in the store: %s", ", ".join(sorted(live)))
            self.apply_settings(live)

    def refresh_soon(self) -> None:
        """Refresh after a short pause (several changes in a row cost one refresh)."""
        self._refresh_timer.start()

    def _on_library(self, library: queries.Library) -> None:
        self._library = library
        self.groups_model.set_library(library)
        self._after_groups_rebuilt()
        self._update_status()

    def _after_groups_rebuilt(self) -> None:
        header = self.group_tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.group_tree.expandToDepth(0)
        self._restore_group_selection()

    def _restore_group_selection(self) -> None:
        index = self.groups_model.find(self._filter)
        if index is None:
            index = self.groups_model.find(GroupFilter("all"))
        if index is not None:
            self.group_tree.setCurrentIndex(index)

    def _on_group_clicked(self, index: QModelIndex) -> None:
        flt = index.data(FILTER_ROLE)
        if isinstance(flt, GroupFilter) and flt != self._filter:
            self._filter = flt
            self._run_search()

    def set_group_filter(self, flt: GroupFilter) -> None:
        self._filter = flt
        self._restore_group_selection()
        self._run_search()

    def _on_query_changed(self, _text: str) -> None:
        self._run_search()

    def _run_search(self) -> None:
        query, flt = self.search_box.text(), self._filter
        self._check_search_ready()
        self.worker.submit(lambda store: queries.find(store, query, flt), self._on_results, key="search")

    def _check_search_ready(self) -> None:
        is_ready = getattr(search, "is_ready", None)
        ready = True if is_ready is None else bool(is_ready())
        if ready != self._search_ready:
            self._search_ready = ready
            self._update_status()
            if ready:
                self._ready_timer.stop()
                if self.search_box.text().strip():
                    self._run_search()
        if not ready and not self._ready_timer.isActive():
            self._ready_timer.start()

    def _on_results(self, results: Results) -> None:
        current = self.current_row()
        keep = current.id if current is not None and results.query == (self._results.query if self._results else "") \
            else None
        if self._select_after_refresh is not None and any(r.id == self._select_after_refresh for r in results.rows):
            keep, self._select_after_refresh = self._select_after_refresh, None
        self._results = results
        if getattr(self, "_suggesting", None) is not None and results.query == self._suggesting:
            self._suggesting = None  # ids only: the e2e test waits for this before it presses Enter
            log.info("suggestions shown: %d replies, first %s", len(results.rows),
                     results.rows[0].id if results.rows else "-")
        self.results_model.set_rows(results.rows)
        n = self.results_model.index_of(keep) if keep is not None else -1
        self.select_row(n if n >= 0 else 0)
        if not results.rows:
            self._on_current_changed(QModelIndex(), QModelIndex())
        self._update_status()

    def _update_status(self) -> None:
        parts: list[str] = []
        if self._results is not None:
            n = len(self._results.rows)
            if self._results.query.strip():
                found = translate("Panel", "找到 %n 条", None, n)
                nothing = translate("Panel", "没有找到匹配的回复")
                parts.append(found if n else nothing)
            else:
                listed = translate("Panel", "%n 条回复", None, n)
                parts.append(listed)
        if not self._search_ready:
            parts.append(translate("Panel", "分词词典加载中，暂用简单匹配"))
        if self.hotkeys_paused:
            parts.append(translate("Panel", "全局快捷键已暂停"))
        elif not self.paste_available:
            parts.append(translate("Panel", "Enter 复制到剪贴板"))
        else:
            parts.append(translate("Panel", "Enter 粘贴 · Ctrl+Enter 复制"))
        self.status.setText("  ·  ".join(parts))

    # ================================================================ selection and keyboard

    def current_row_number(self) -> int:
        index = self.results.currentIndex()
        return index.row() if index.isValid() else -1

    def current_row(self) -> ReplyRow | None:
        return self.results_model.row_at(self.current_row_number())

    def select_row(self, n: int) -> None:
        count = self.results_model.rowCount()
        if count == 0:
            return
        n = max(0, min(count - 1, n))
        index = self.results_model.index(n, 0)
        self.results.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.results.scrollTo(index)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.preview.set_row(current.data(ROW_ROLE) if current.isValid() else None)
        has = current.isValid()
        for button in (self.paste_button, self.copy_button, self.edit_button):
            button.setEnabled(has)

    def _on_command(self, name: str, arg: int) -> None:
        if name == "move":
            self.select_row(max(0, self.current_row_number()) + arg if self.current_row_number() >= 0 else 0)
        elif name == "paste":
            self.activate_row(self.current_row_number())
        elif name == "copy":
            self.activate_row(self.current_row_number(), copy_only=True)
        elif name == "pick":
            if arg - 1 < self.results_model.rowCount():
                self.select_row(arg - 1)
                self.activate_row(arg - 1)
        elif name == "escape":
            if self.search_box.text():
                self.search_box.clear()
            else:
                self.hide_panel()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.results and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            cmd = panel_key(event)
            if cmd is not None and cmd[0] != "move":
                self._on_command(*cmd)
                return True
            if event.key() == Qt.Key.Key_Delete and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                self.delete_current()
                return True
        return super().eventFilter(watched, event)

    def _row_menu(self, pos) -> None:  # noqa: ANN001
        index = self.results.indexAt(pos)
        if not index.isValid():
            return
        self.select_row(index.row())
        self.row_menu(index.row()).popup(self.results.viewport().mapToGlobal(pos))

    def row_menu(self, n: int) -> QMenu:
        """The context menu of result row n (team mode: shop replies are the supervisor's to delete;
        a supervisor shares a personal reply to a shop from here)."""
        row = self.results_model.row_at(n)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.addAction(icons.icon("paste"), translate("Panel", "粘贴到聊天窗口"), lambda: self.activate_row(n))
        menu.addAction(icons.icon("copy"), translate("Panel", "复制"),
                       lambda: self.activate_row(n, copy_only=True))
        menu.addSeparator()
        menu.addAction(icons.icon("edit"), translate("Panel", "编辑…"), self.edit_current)
        menu.addAction(icons.icon("duplicate"), translate("Panel", "复制为新回复…"), self.duplicate_current)
        if row is not None and self.team.kind == "supervisor" and row.shop is None and self.team.shops:
            share = menu.addMenu(icons.icon("users"), translate("Team", "发布到店铺…"))
            share.setObjectName("ShareMenu")
            for shop_uuid, name in self.team.shops:
                share.addAction(name, lambda rid=row.id, shop=shop_uuid: self.share_reply(rid, shop))
        delete = menu.addAction(icons.icon("trash", style.ERROR), translate("Panel", "删除"), self.delete_current)
        if row is not None and row.shop is not None and self.team.kind != "supervisor":
            delete.setEnabled(False)
            delete.setToolTip(translate("Team", "店铺话术由主管维护，不能修改"))
        return menu

    def share_reply(self, reply_id: int, shop: str) -> None:
        """A supervisor puts one of their replies into a shop's library (queued for the server)."""
        name = dict(self.team.shops).get(shop, shop)

        def shared(_reply: replies.Reply) -> None:
            self.replies_changed.emit()
            self.show_message(translate("Team", "已发布到店铺“{shop}”，同步后全店客服都能用")
                              .replace("{shop}", name), None, "success")

        self.worker.submit(lambda store: replies.share_reply(store, reply_id, shop), shared, self.show_known_error,
                           write=True)

    # ================================================================ paste / copy

    def set_paste_available(self, available: bool) -> None:
        """True once a paste flow is connected to paste_requested."""
        self.paste_available = bool(available)
        self._update_status()

    def set_hotkeys_paused(self, paused: bool) -> None:
        self.hotkeys_paused = bool(paused)
        if self.act_pause.isChecked() != self.hotkeys_paused:
            self.act_pause.blockSignals(True)
            self.act_pause.setChecked(self.hotkeys_paused)
            self.act_pause.blockSignals(False)
        self._update_status()

    def _on_pause_toggled(self, paused: bool) -> None:
        self.set_hotkeys_paused(paused)
        self.pause_hotkeys_toggled.emit(paused)

    def set_context(self, values: dict[str, str]) -> None:
        """Fill-in values known for the current buyer ({客户}, {订单号}…), from the customer view."""
        self.context = {k: v for k, v in (values or {}).items() if v}
        self.context_changed.emit(dict(self.context))

    def _prefill(self) -> dict[str, str]:
        values = {k: v for k, v in self._remembered.items() if k not in BUYER_FIELDS}
        agent = str(self.config.get("agent.name") or "")
        if agent:
            values["客服"] = agent
        values.update(self._remembered_by_buyer.get(self.context.get("客户", ""), {}))
        values.update(self.context)
        return values

    def _remember(self, filled: dict[str, str]) -> None:
        buyer = filled.get("客户") or self.context.get("客户") or ""
        own = {k: v for k, v in filled.items() if v and k in BUYER_FIELDS and k != "客户"}
        if buyer and own:
            earlier = self._remembered_by_buyer.pop(buyer, {})  # most recent last: the oldest goes first
            self._remembered_by_buyer[buyer] = {**earlier, **own}
            while len(self._remembered_by_buyer) > MAX_REMEMBERED_BUYERS:
                self._remembered_by_buyer.pop(next(iter(self._remembered_by_buyer)))
        self._remembered.update({k: v for k, v in filled.items() if v and k not in BUYER_FIELDS})

    def activate_row(self, n: int, copy_only: bool = False) -> None:
        """Enter / double-click / Alt+n: paste the reply (or copy it), asking for missing fields first."""
        row = self.results_model.row_at(n)
        if row is None:
            return
        values = self._prefill()
        rendered = templates.render(row.body, values)
        if rendered.missing:
            self._ask(row, rendered.missing, values, lambda filled: self._deliver(row, filled, copy_only))
        else:
            self._deliver(row, {k: v for k, v in values.items() if k in row.fields}, copy_only)

    def _ask(self, row: ReplyRow, missing: list[str], values: dict[str, str],
             done: Callable[[dict[str, str]], None], cancelled: Callable[[], None] | None = None) -> None:
        from .fill_dialog import FillFieldsDialog

        dialog = FillFieldsDialog(row, missing, values, self)

        def accepted() -> None:
            filled = dialog.values()
            self._remember(filled)
            done(filled)

        dialog.accepted.connect(accepted)
        if cancelled is not None:
            dialog.rejected.connect(cancelled)
        self._keep(dialog)
        dialog.open()

    def _deliver(self, row: ReplyRow, values: dict[str, str], copy_only: bool) -> None:
        if self.paste_available and not copy_only:
            self.paste_requested.emit(row.id, dict(values))
            return
        text = templates.render(row.body, values).text
        QGuiApplication.clipboard().setText(text)
        if copy_only:
            self.show_message(translate("Panel", "已复制到剪贴板"), None, "success")
        else:
            self.show_message(translate("Panel", "已复制，请按 Ctrl+V 粘贴到聊天窗口"), None, "success")
        self.worker.submit(lambda store: replies.record_use(store, row.id, via="copy"), write=True,
                           on_error=lambda exc: log.warning("usage not recorded: %s", exc.en))

    def ask_fields(self, reply_id: int, missing: list[str], token: int = 0) -> None:
        """The paste flow needs fill-in values for a reply fired by hotkey: ask, then fields_filled."""

        def got(row: ReplyRow) -> None:
            self.show_panel()
            self._ask(row, list(missing), self._prefill(),
                      lambda values: self.fields_filled.emit(token, values),
                      lambda: self.fields_cancelled.emit(token))

        self.worker.submit(lambda store: queries.get_row(store, reply_id), got, self.show_known_error)

    # ================================================================ editing

    def new_reply(self, body: str = "") -> None:
        from .editor_dialog import EditorDialog

        group = None
        if self._filter.kind == "group" and self._library is not None:
            group = next((g.path for g in self._library.groups if g.id == self._filter.group_id), None)
        self._open_editor(EditorDialog(self.worker, None, parent=self, body=body, group=group))

    def add_reply_with_text(self, text: str) -> None:
        """"Save the selection as a reply" hotkey: an editor with the selected text as its body."""
        self.show_panel()
        self.new_reply(text or "")

    def edit_current(self) -> None:
        row = self.current_row()
        if row is None:
            return
        from .editor_dialog import EditorDialog

        self._open_editor(EditorDialog(self.worker, row.id, parent=self))

    def duplicate_current(self) -> None:
        row = self.current_row()
        if row is None:
            return
        from .editor_dialog import EditorDialog

        self._open_editor(EditorDialog(self.worker, row.id, parent=self, duplicate=True))

    def _open_editor(self, dialog) -> None:  # noqa: ANN001
        dialog.saved.connect(self._on_reply_saved)
        dialog.copied.connect(self._on_reply_copied)
        dialog.delete_requested.connect(self.delete_reply)
        dialog.capture_active.connect(self.hotkey_capture_active)
        self._keep(dialog)
        dialog.open()
        dialog.activateWindow()

    def _on_reply_saved(self, row: ReplyRow) -> None:
        self.replies_changed.emit()
        self.show_message(translate("Panel", "已保存“{title}”").replace("{title}", row.title), None, "success")
        self._select_after_refresh = row.id

    def _on_reply_copied(self, row: ReplyRow) -> None:
        self.replies_changed.emit()
        self.show_message(translate("Team", "已复制到我的话术：“{title}”").replace("{title}", row.title), None,
                          "success")
        self._select_after_refresh = row.id

    def delete_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.delete_reply(row.id)

    def delete_reply(self, reply_id: int) -> None:
        def deleted(reply: replies.Reply) -> None:
            self.replies_changed.emit()
            undo = translate("Panel", "撤销")
            self.show_message(translate("Panel", "已删除“{title}”").replace("{title}", reply.title), None, "info",
                              action=(undo, undo), callback=lambda: self.undo_delete(reply))

        self.worker.submit(lambda store: replies.delete_reply(store, reply_id), deleted, self.show_known_error,
                           write=True)

    def undo_delete(self, reply: replies.Reply) -> None:
        def restored(back: replies.Reply) -> None:
            self.replies_changed.emit()
            self.show_message(translate("Panel", "已恢复“{title}”").replace("{title}", back.title), None, "success")

        self.worker.submit(lambda store: replies.restore_reply(store, reply), restored, self.show_known_error,
                           write=True)

    # ================================================================ dialogs

    def _keep(self, dialog: QWidget) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda *_: self._dialogs.remove(dialog) if dialog in self._dialogs else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

    def open_import(self, path: str | None = None) -> None:
        from .transfer_dialog import ImportDialog

        dialog = ImportDialog(self.worker, self, path=path)
        dialog.imported.connect(lambda *_: self.replies_changed.emit())
        self._keep(dialog)
        dialog.open()
        if path is None:
            dialog.choose_file()

    def open_conflicts(self) -> QWidget:
        """The team sync conflicts, from the notice (non-modal: the panel stays usable)."""
        from ..team.conflicts_dialog import ConflictsDialog

        dialog = ConflictsDialog(self.worker, self)
        self._keep(dialog)
        dialog.show()
        return dialog

    def open_supervisor(self) -> QWidget | None:
        """团队管理 (non-modal, one at a time): who follows whom, the day's chases, library history."""
        from ...core import zones
        from ..team.supervisor_dialog import SupervisorDialog

        if self.team_sync is None:
            return None
        if self._supervisor_dialog is not None and self._supervisor_dialog in self._dialogs:
            self._supervisor_dialog.raise_()
            self._supervisor_dialog.activateWindow()
            return self._supervisor_dialog
        dialog = SupervisorDialog(self.team_sync, zones.zone_or_local(self.config.get("reminders.agent_tz")), self)
        self._keep(dialog)
        self._supervisor_dialog = dialog
        dialog.show()
        return dialog

    def open_export(self) -> None:
        from .transfer_dialog import ExportDialog

        dialog = ExportDialog(self.worker, self)
        self._keep(dialog)
        dialog.open()

    def open_settings(self) -> None:
        from ..settings.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.worker, self.config, self, data_dir=self.data_dir,
                                window_lister=self.window_lister, team=self.team_link)
        dialog.saved.connect(self.apply_settings)
        dialog.edit_reply.connect(lambda rid: self._open_editor(self._editor_for(rid)))
        dialog.capture_active.connect(self.hotkey_capture_active)
        self._keep(dialog)
        dialog.open()

    def _editor_for(self, reply_id: int):  # noqa: ANN202
        from .editor_dialog import EditorDialog

        return EditorDialog(self.worker, reply_id, parent=self)

    def apply_settings(self, values: dict[str, Any]) -> None:
        """New settings from the dialog (already saved in the store): apply them live."""
        old = dict(self.config)
        self.config.update(values)
        if values.get("ui.language", old["ui.language"]) != i18n.current():
            i18n.install(str(self.config["ui.language"]))
        self.set_always_on_top(bool(self.config["ui.always_on_top"]))
        self.dock_actions.get(str(self.config["ui.dock"]), self.dock_actions["right"]).setChecked(True)
        if any(old.get(k) != self.config.get(k) for k in ("ui.dock", "ui.width", "ui.attach_pattern")):
            self.apply_placement()
        self.settings_saved.emit(dict(self.config))

    # ================================================================ messages

    def _on_dock_fallback(self, text: str) -> None:
        self._dock_warning = text
        self.show_message(text, None, "warning")

    def _on_dock_recovered(self) -> None:
        """The panel is placed as asked again: a "cannot attach" warning still shown is stale."""
        if self._dock_warning is not None and self.message_bar.isVisible() \
                and self.message_bar.message()[0] == self._dock_warning:
            self.message_bar.dismiss()
        self._dock_warning = None

    def listen(self, bridge: MessageBridge) -> None:
        """Show every message posted on this bridge (once per bridge, however often it is asked)."""
        if bridge not in self._bridges:
            self._bridges.append(bridge)
            bridge.message.connect(self.show_bridge_message)

    def show_bridge_message(self, message: Message) -> None:
        self.show_message(message.zh, message.en, message.level)

    def show_message(self, zh: str, en: str | None = None, level: str = "info", *,
                     action: tuple[str, str] | None = None, callback: Callable[[], None] | None = None) -> None:
        self.message_bar.show_message(zh, en or zh, level, action=action, callback=callback)

    def _on_write_waiting(self, waiting: bool, pid: int) -> None:
        """The worker holds a change back while another process writes (services.worker.WAIT_NOTICE_S)."""
        if waiting and pid > 0:
            self.show_message(translate("Panel", "kefu 正在导入回复（进程 {pid}），更改将在导入后保存…")
                              .replace("{pid}", str(pid)), None, "info")
        elif waiting:
            self.show_message(translate("Panel", "数据库正被其他程序占用，更改将稍后保存…"), None, "info")
        elif pid == 0:
            self.show_message(translate("Panel", "等待中的更改已保存"), None, "success")

    def show_known_error(self, exc: KnownError) -> None:
        level = "error" if isinstance(exc, StoreError) else "warning"
        self.show_message(exc.zh, exc.en, level)
