"""Interface language through Qt's translation system.

Source strings are Chinese (the default language); resources/i18n/kefu_en.ts holds the English
translation, compiled to kefu_en.qm by pyside6-lrelease (packaging/update_translations.py).
Switching installs or removes the translator; Qt then sends every widget a LanguageChange event
and each one re-labels itself (retranslate()).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from ...paths import resource_path

log = logging.getLogger(__name__)

DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

_state: dict[str, object] = {"lang": DEFAULT, "translators": []}


def qm_path(lang: str):
    return resource_path("i18n", f"kefu_{lang}.qm")


def current() -> str:
    return str(_state["lang"])


def is_english() -> bool:
    return current() == "en"


def pick(zh: str, en: str) -> str:
    """The zh or en text of a bilingual message (KnownError, settings declarations)."""
    return en if is_english() else zh


def install(lang: str) -> bool:
    """Switch the interface language; returns False (and keeps Chinese) if the files are missing."""
    app = QCoreApplication.instance()
    if lang not in LANGUAGES:
        lang = DEFAULT
    for old in list(_state["translators"]):  # type: ignore[arg-type]
        if app is not None:
            app.removeTranslator(old)
    _state["translators"] = []
    ok = True
    translators: list[QTranslator] = []
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if lang == "en":
        ours = QTranslator(app)
        if ours.load(str(qm_path("en"))):
            translators.append(ours)
        else:
            log.warning("English translation file missing: %s", qm_path("en"))
            ok = False
            lang = DEFAULT
    if lang == "zh_CN":
        # Qt's own strings (standard buttons, context menus of text boxes) in Chinese.
        qt = QTranslator(app)
        if qt.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", qt_dir):
            translators.append(qt)
    _state["lang"] = lang
    if app is not None:
        for t in translators:
            app.installTranslator(t)
    _state["translators"] = translators
    QLocale.setDefault(QLocale(QLocale.Language.English) if lang == "en"
                       else QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return ok
