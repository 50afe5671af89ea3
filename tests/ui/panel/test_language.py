"""Chinese by default, English complete: switching re-labels the open panel; every UI string is in
the .ts and translated; the compiled .qm matches its source."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QTabBar

from assistant.ui.widgets import i18n

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u3400-\u9fff]")


def chrome_texts(widget) -> list[str]:
    """Visible interface texts of a window (not user data: reply titles, bodies and group names)."""
    texts = [widget.windowTitle()]
    for child in widget.findChildren(QLabel):
        if child.isVisibleTo(widget) and child.objectName() not in ("", "Hint") or child.objectName() == "Hint":
            texts.append(child.text())
    for child in widget.findChildren(QAbstractButton):
        texts += [child.text(), child.toolTip()]
    for child in widget.findChildren(QLineEdit):
        texts.append(child.placeholderText())
    for bar in widget.findChildren(QTabBar):
        texts += [bar.tabText(n) for n in range(bar.count())]
    return [t for t in texts if t]


def test_chinese_is_the_default(panel):
    assert i18n.current() == "zh_CN"
    assert panel.tabs.tabText(0) == "快捷回复"
    assert panel.paste_button.text() == "粘贴"


def test_switching_to_english_relabels_the_open_panel_and_back(qtbot, panel):
    from PySide6.QtWidgets import QWidget

    from assistant.ui.buyers.buyers_tab import BuyersTab
    from assistant.ui.handover.handover_tab import HandoverTab
    from assistant.ui.reminders.reminders_tab import RemindersTab

    for tab in (BuyersTab, RemindersTab, HandoverTab):  # tabs added later are relabelled too
        panel.add_tab(*tab.TAB, QWidget())
    assert [panel.tabs.tabText(n) for n in range(4)] == ["快捷回复", "客户", "提醒", "交接"]
    assert i18n.install("en")
    qtbot.waitUntil(lambda: panel.tabs.tabText(0) == "Replies")  # LanguageChange is a posted event
    assert panel.search_box.placeholderText().startswith("Search:")
    assert panel.paste_button.text() == "Paste"
    assert panel.groups_model.item(0, 0).text() == "All replies"
    assert "replies" in panel.status.full_text()
    assert [panel.tabs.tabText(n) for n in range(4)] == ["Replies", "Buyers", "Chases", "Handover"]
    leftovers = [t for t in chrome_texts(panel) if CJK.search(t)]
    assert leftovers == []
    i18n.install("zh_CN")
    qtbot.waitUntil(lambda: panel.tabs.tabText(0) == "快捷回复")
    assert panel.groups_model.item(0, 0).text() == "全部回复"


def test_language_setting_switches_live(qtbot, panel):
    panel.apply_settings({"ui.language": "en"})
    assert i18n.current() == "en"
    qtbot.waitUntil(lambda: panel.act_settings.text() == "Settings…")


def test_dialogs_are_complete_in_english(qtbot, worker, data_dir):
    from assistant.ui.panel.editor_dialog import EditorDialog
    from assistant.ui.panel.transfer_dialog import ExportDialog, ImportDialog
    from assistant.ui.settings.settings_dialog import SettingsDialog

    i18n.install("en")
    for dialog in (EditorDialog(worker, None), SettingsDialog(worker, {}, data_dir=data_dir),
                   ImportDialog(worker), ExportDialog(worker)):
        qtbot.addWidget(dialog)
        texts = chrome_texts(dialog)
        leftovers = [t for t in texts if CJK.search(t) and not t.startswith("{")]
        # Field chips ({客户}) are the field names written in replies; language names may stay native.
        assert leftovers == [], f"{type(dialog).__name__}: {leftovers}"


def test_every_ui_string_is_translated_and_the_qm_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "update_translations.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_english_file_is_shipped():
    assert i18n.qm_path("en").is_file()
    assert QApplication.instance() is not None
