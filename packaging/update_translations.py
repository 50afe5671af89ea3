"""Refresh the translation sources and compile them.

    python packaging/update_translations.py          # lupdate (new strings into the .ts) + lrelease
    python packaging/update_translations.py --check  # exit 1 if a string is untranslated or a .qm is stale

Source strings in the code are Chinese (the default language); resources/i18n/kefu_en.ts holds the
English. Edit the .ts with Qt Linguist (pyside6-linguist) or any text editor, then run this again.
Uses pyside6-lupdate / pyside6-lrelease, which come with PySide6-Essentials. Refreshing the .ts
needs lupdate 6.12 or newer: older ones drop or flatten the plural messages, translate(ctx, "…%n…",
None, n). The app itself is pinned below 6.12.0 (services/qtfix.py), so refresh from another environment:
    python3 -m venv /tmp/qt612 && /tmp/qt612/bin/pip install PySide6-Essentials==6.12.0
    PATH=/tmp/qt612/bin:$PATH python3 packaging/update_translations.py
--check works with either: it asks whether every string lupdate finds has an English translation.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "resources" / "i18n"
LANGUAGES = ("en",)


def sources() -> list[Path]:
    files = sorted((ROOT / "assistant" / "ui").rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def tool(name: str) -> list[str]:
    exe = shutil.which(f"pyside6-{name}")
    if exe:
        return [exe]
    import PySide6

    local = Path(PySide6.__file__).parent / name
    if local.exists():
        return [str(local)]
    raise SystemExit(f"pyside6-{name} not found (it comes with PySide6-Essentials)")


def ts_path(lang: str) -> Path:
    return I18N / f"kefu_{lang}.ts"


def qm_path(lang: str) -> Path:
    return I18N / f"kefu_{lang}.qm"


PLURAL_LUPDATE = (6, 12)


def lupdate_version() -> tuple[int, int]:
    out = subprocess.run([*tool("lupdate"), "-version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def messages(ts: Path, translated_only: bool = False) -> set[tuple[str, str]]:
    """(context, source) of the live messages of a .ts; translated_only: those with every form filled."""
    out = set()
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            kind = None if translation is None else translation.get("type")
            if kind in ("vanished", "obsolete"):
                continue
            if translated_only:
                if translation is None or kind == "unfinished":
                    continue
                forms = [f.text or "" for f in translation.findall("numerusform")]
                if not all(f.strip() for f in forms or [translation.text or ""]):
                    continue
            out.add((name, message.findtext("source") or ""))
    return out


def lupdate(target: Path) -> None:
    files = [os.path.relpath(f, target.parent) for f in sources()]
    subprocess.run([*tool("lupdate"), "-no-obsolete", "-locations", "none", "-source-language", "zh_CN",
                    "-target-language", target.stem.split("_", 1)[1], *files, "-ts", target.name],
                   cwd=target.parent, check=True, capture_output=True)


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run([*tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True, capture_output=True)


def unfinished(ts: Path) -> list[str]:
    out = []
    for message in ET.parse(ts).getroot().iter("message"):
        translation = message.find("translation")
        source = message.findtext("source") or ""
        if translation is None or translation.get("type") in ("unfinished", "vanished", "obsolete"):
            if translation is None or translation.get("type") == "unfinished":
                out.append(source)
            continue
        forms = translation.findall("numerusform")
        if (forms and not all((f.text or "").strip() for f in forms)) or (not forms and not (translation.text or "").strip()):
            out.append(source)
    return out


def qm_differences(ts: Path, qm: Path) -> list[str]:
    """Messages whose translation in the compiled .qm differs from the .ts (compared through
    QTranslator, so the check does not depend on the lrelease version's byte layout)."""
    if not qm.exists():
        return [f"{qm.name} missing"]
    from PySide6.QtCore import QTranslator

    translator = QTranslator()
    if not translator.load(str(qm)):
        return [f"{qm.name} does not load"]
    out = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            translation = message.find("translation")
            if translation is None or translation.get("type") in ("unfinished", "vanished", "obsolete"):
                continue
            forms = [f.text or "" for f in translation.findall("numerusform")]
            if forms:
                got = [translator.translate(name, source, None, n) for n in (1, 2)]
                if got != [forms[0], forms[-1]]:
                    out.append(source)
            elif translator.translate(name, source) != (translation.text or ""):
                out.append(source)
    return out


def check() -> int:
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in LANGUAGES:
            fresh = Path(tmp) / ts_path(lang).name
            shutil.copy(ts_path(lang), fresh)
            # Run lupdate on a copy placed beside the real one so relative paths match.
            work = I18N / f".check_{lang}.ts"
            shutil.copy(ts_path(lang), work)
            try:
                files = [os.path.relpath(f, I18N) for f in sources()]
                subprocess.run([*tool("lupdate"), "-no-obsolete", "-locations", "none", "-source-language", "zh_CN",
                                "-target-language", lang, *files, "-ts", work.name], cwd=I18N, check=True,
                               capture_output=True)
                # every string lupdate finds in the code, translated in the committed .ts (compared by
                # context and text: lupdate before 6.12 rewrites plural messages as plain ones)
                found = messages(work)
            finally:
                work.unlink(missing_ok=True)
            missing = sorted(source for _, source in found - messages(ts_path(lang), translated_only=True))
            if missing:
                problems.append(f"{lang}: {len(missing)} untranslated: " + " | ".join(missing[:10]))
            stale = qm_differences(ts_path(lang), qm_path(lang))
            if stale:
                problems.append(f"{lang}: {qm_path(lang).name} is not compiled from the current .ts "
                                f"(run this script): " + " | ".join(stale[:5]))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check()
    version = lupdate_version()
    if version < PLURAL_LUPDATE:
        sys.exit(f"pyside6-lupdate {version[0]}.{version[1]} would drop the plural (%n) translations from the .ts: "
                 "use lupdate 6.12 or newer (see this script's docstring)")
    for lang in LANGUAGES:
        lupdate(ts_path(lang))
        lrelease(ts_path(lang), qm_path(lang))
        missing = unfinished(ts_path(lang))
        print(f"{lang}: {len(missing)} untranslated")
        for source in missing:
            print("   ", source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
