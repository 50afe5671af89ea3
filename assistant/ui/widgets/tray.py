"""Tray icon and its menu: show/hide the panel, pause hotkeys, settings, quit.

Closing the panel hides it here; a click on the icon brings it back. Under Xvfb and on bare window
managers a tray host must be running (Debian: trayer or stalonetray), else the panel minimises
instead of hiding (Panel.closeEvent).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from . import icons

translate = QCoreApplication.translate


class Tray(QObject):
    toggle_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()
    pause_toggled = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icons.app_icon(), self)
        self.menu = QMenu()
        self.act_toggle = self.menu.addAction(icons.icon("list"), "", self.toggle_requested.emit)
        self.act_pause = self.menu.addAction(icons.icon("pause"), "")
        self.act_pause.setCheckable(True)
        self.act_pause.toggled.connect(self._on_pause)
        self.menu.addSeparator()
        self.act_settings = self.menu.addAction(icons.icon("settings"), "", self.settings_requested.emit)
        self.act_quit = self.menu.addAction(icons.icon("quit"), "", self.quit_requested.emit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self._paused = False
        self.retranslate()
        self.menu.installEventFilter(self)  # the menu (a widget) is told of language changes

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_paused(self, paused: bool) -> None:
        self._paused = bool(paused)
        if self.act_pause.isChecked() != self._paused:
            self.act_pause.blockSignals(True)
            self.act_pause.setChecked(self._paused)
            self.act_pause.blockSignals(False)
        self.icon.setIcon(icons.app_icon(paused=self._paused))
        self.retranslate()

    def is_paused(self) -> bool:
        return self._paused

    def _on_pause(self, paused: bool) -> None:
        self.set_paused(paused)
        self.pause_toggled.emit(paused)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.toggle_requested.emit()

    def retranslate(self) -> None:
        self.act_toggle.setText(translate("Tray", "显示/隐藏面板"))
        self.act_pause.setText(translate("Tray", "暂停全局快捷键"))
        self.act_settings.setText(translate("Tray", "设置…"))
        self.act_quit.setText(translate("Tray", "退出"))
        tip = translate("Tray", "客服助手")
        if self._paused:
            tip += " — " + translate("Tray", "快捷键已暂停")
        self.icon.setToolTip(tip)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.menu and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False
