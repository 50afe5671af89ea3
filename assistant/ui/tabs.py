"""Each tab's key (Panel.show_tab) and label (a source in the "Tabs" context), importable without the
tab's own module: app.py adds the 客户 / 售后 / 交接 pages as LazyPages and imports their modules only
when they are first opened (issue 17)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

BUYERS = ("buyers", QT_TRANSLATE_NOOP("Tabs", "客户"))
REMINDERS = ("reminders", QT_TRANSLATE_NOOP("Tabs", "提醒"))
AFTERSALES = ("aftersales", QT_TRANSLATE_NOOP("Tabs", "售后"))
HANDOVER = ("handover", QT_TRANSLATE_NOOP("Tabs", "交接"))
