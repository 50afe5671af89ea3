"""Look and feel: one light theme on the Fusion style, so the panel looks the same on Windows and
Linux. Colours are named once here and used by the stylesheet and the painted rows."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

ACCENT = "#2563eb"
ACCENT_DARK = "#1d4ed8"
ACCENT_SOFT = "#e8f0fe"
TEXT = "#0f172a"
TEXT_2 = "#475569"
TEXT_3 = "#94a3b8"
ICON = "#475569"
DISABLED = "#cbd5e1"
BORDER = "#e2e8f0"
BG = "#f8fafc"
SURFACE = "#ffffff"
SELECTED = "#dbeafe"
FIELD_BG = "#fef3c7"
FIELD_FG = "#92400e"
OK = "#15803d"
WARN = "#b45309"
ERROR = "#b91c1c"
INFO_BG, WARN_BG, ERROR_BG, OK_BG = "#eff6ff", "#fffbeb", "#fef2f2", "#f0fdf4"
SHOP_FG, SHOP_BG = "#0f766e", "#ccfbf1"  # team mode: a reply of the shop library (teal: not a fill-in field's amber)

# Fonts with good CJK glyphs on each platform, in order of preference.
FONT_FAMILIES = ["Segoe UI", "Microsoft YaHei UI", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC",
                 "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Sans", "sans-serif"]

# "{ARROW}" and "{UP}" below are replaced by the arrow icons' paths in stylesheet().
STYLESHEET = f"""
QWidget {{ color: {TEXT}; }}
#Panel, #PanelBody {{ background: {BG}; }}
QToolTip {{ background: {TEXT}; color: white; border: none; padding: 4px 6px; }}

#SearchBox {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 6px 8px; font-size: 14px; selection-background-color: {SELECTED}; selection-color: {TEXT};
}}
#SearchBox:focus {{ border: 1px solid {ACCENT}; }}

QTabBar#MainTabs {{ background: transparent; }}
QTabBar#MainTabs::tab {{
    background: transparent; color: {TEXT_2}; padding: 8px 5px 7px 5px; margin: 0;
    border: none; border-bottom: 2px solid transparent; font-size: 13px;
}}
QTabBar#MainTabs::tab:selected {{ color: {ACCENT}; border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
QTabBar#MainTabs::tab:hover:!selected {{ color: {TEXT}; }}
#TopBar {{ background: {SURFACE}; border-bottom: 1px solid {BORDER}; }}

QToolButton {{ border: none; border-radius: 6px; padding: 4px; background: transparent; }}
QToolButton:hover {{ background: #eef2f7; }}
QToolButton:pressed, QToolButton:checked {{ background: {ACCENT_SOFT}; }}
QToolButton::menu-indicator {{ image: none; width: 0; }}

QPushButton {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; padding: 5px 12px; min-height: 18px;
}}
QPushButton:hover {{ border-color: #cbd5e1; background: #f1f5f9; }}
QPushButton:pressed {{ background: #e2e8f0; }}
QPushButton:disabled {{ color: {TEXT_3}; background: {BG}; }}
QPushButton#Primary {{
    background: {ACCENT}; border: 1px solid {ACCENT}; color: white; font-weight: 600;
}}
QPushButton#Primary:hover {{ background: {ACCENT_DARK}; }}
QPushButton#Primary:disabled {{ background: #93c5fd; border-color: #93c5fd; }}
QPushButton#Danger {{ color: {ERROR}; }}
QPushButton#Danger:disabled {{ color: {TEXT_3}; }}
QPushButton#Chip {{
    background: {FIELD_BG}; color: {FIELD_FG}; border: 1px solid #fde68a; border-radius: 10px;
    padding: 2px 8px; min-height: 14px; font-size: 12px;
}}
QPushButton#Chip:hover {{ background: #fde68a; }}
QToolButton#Mood {{
    background: {SURFACE}; color: {TEXT_2}; border: 1px solid {BORDER}; border-radius: 10px;
    padding: 2px 5px; font-size: 12px;
}}
QToolButton#Mood:hover {{ border-color: #cbd5e1; }}
QToolButton#Mood:checked {{ background: {ACCENT_SOFT}; color: {ACCENT}; border-color: {ACCENT}; font-weight: 600; }}

QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QSpinBox {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; padding: 4px 6px;
    selection-background-color: {SELECTED}; selection-color: {TEXT};
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus, QSpinBox:focus {{ border-color: {ACCENT}; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"] {{ border-color: {ERROR}; }}
QLineEdit[locked="true"], QPlainTextEdit[locked="true"], QComboBox[locked="true"] {{
    background: {BG}; color: {TEXT_2}; }}
#ShopNote {{ background: {SHOP_BG}; border: 1px solid #99f6e4; border-radius: 8px; }}
#ShopNote QLabel {{ background: transparent; color: {SHOP_FG}; font-size: 12px; }}
QComboBox::drop-down {{ border: none; width: 22px; }}
QComboBox::down-arrow {{ image: url({{ARROW}}); width: 10px; height: 10px; }}
QSpinBox {{ padding-right: 20px; }}
QSpinBox::up-button, QSpinBox::down-button {{
    subcontrol-origin: border; width: 18px; border: none; border-left: 1px solid {BORDER}; background: transparent;
}}
QSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 6px; }}
QSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 6px; }}
QSpinBox::up-button:hover, QSpinBox::down-button:hover {{ background: #eef2f7; }}
QSpinBox::up-arrow {{ image: url({{UP}}); width: 8px; height: 8px; }}
QSpinBox::down-arrow {{ image: url({{ARROW}}); width: 8px; height: 8px; }}
QComboBox QAbstractItemView {{ background: {SURFACE}; border: 1px solid {BORDER}; selection-background-color: {SELECTED};
    selection-color: {TEXT}; outline: none; }}

#ResultList, #GroupTree {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; outline: none;
}}
#GroupTree::item {{ padding: 3px 2px; border-radius: 4px; }}
#GroupTree::item:selected {{ background: {SELECTED}; color: {TEXT}; }}
#GroupTree::item:hover:!selected {{ background: #f1f5f9; }}
#Preview {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; padding: 4px;
}}
QSplitter::handle {{ background: transparent; }}
QSplitter::handle:vertical {{ height: 6px; }}

QScrollBar:vertical {{ background: transparent; width: 8px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: #cbd5e1; border-radius: 3px; min-height: 24px; }}
QScrollBar::handle:vertical:hover {{ background: #94a3b8; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QScrollBar:horizontal {{ background: transparent; height: 8px; margin: 2px; }}
QScrollBar::handle:horizontal {{ background: #cbd5e1; border-radius: 3px; min-width: 24px; }}

#StatusLine {{ color: {TEXT_3}; font-size: 12px; }}
#Hint {{ color: {TEXT_3}; font-size: 12px; }}
#SectionTitle {{ color: {TEXT_2}; font-size: 12px; font-weight: 600; }}
#FieldError {{ color: {ERROR}; font-size: 12px; }}
#FieldOk {{ color: {OK}; font-size: 12px; }}

#MessageBar {{ border-radius: 8px; border: 1px solid {BORDER}; }}
#MessageBar[level="info"] {{ background: {INFO_BG}; border-color: #bfdbfe; }}
#MessageBar[level="success"] {{ background: {OK_BG}; border-color: #bbf7d0; }}
#MessageBar[level="warning"] {{ background: {WARN_BG}; border-color: #fde68a; }}
#MessageBar[level="error"] {{ background: {ERROR_BG}; border-color: #fecaca; }}
#MessageBar QLabel {{ background: transparent; }}
#MessageBar QPushButton {{ padding: 2px 10px; }}

QDialog {{ background: {BG}; }}
QGroupBox {{
    background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 8px; margin-top: 18px; padding: 10px 10px 8px 10px;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; top: 2px; color: {TEXT_2}; font-weight: 600; }}
QListWidget#SettingsNav {{
    background: transparent; border: none; outline: none; font-size: 13px;
}}
QListWidget#SettingsNav::item {{ padding: 8px 10px; border-radius: 6px; margin: 1px 0; }}
QListWidget#SettingsNav::item:selected {{ background: {SELECTED}; color: {ACCENT}; }}
QTableWidget {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 6px; gridline-color: {BORDER}; }}
QHeaderView::section {{ background: {BG}; border: none; border-bottom: 1px solid {BORDER}; padding: 4px 6px; color: {TEXT_2}; }}
QProgressBar {{ border: 1px solid {BORDER}; border-radius: 5px; background: {SURFACE}; text-align: center; height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
"""


def stylesheet() -> str:
    from ...paths import resource_path

    arrow = resource_path("icons", "combo-arrow.svg").as_posix()
    up = resource_path("icons", "spin-up.svg").as_posix()
    return STYLESHEET.replace("{ARROW}", arrow).replace("{UP}", up)


def ui_font() -> QFont:
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPixelSize(13)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


def apply(app: QApplication) -> None:
    """Fusion + our palette, font and stylesheet. Called once at start-up."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(BG))
    palette.setColor(QPalette.ColorRole.Base, QColor(SURFACE))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(BG))
    palette.setColor(QPalette.ColorRole.Text, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(TEXT_3))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(SELECTED))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(TEXT))
    palette.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    app.setPalette(palette)
    app.setFont(ui_font())
    app.setStyleSheet(stylesheet())
