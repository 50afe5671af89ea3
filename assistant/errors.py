"""Errors that are the environment's or the user's fault, shown gently (never as a traceback).

Anything else is a bug and reaches the crash handler. Every KnownError carries a Chinese and an
English sentence: the UI shows the Chinese one (or English when chosen), the CLI prints both.
"""

from __future__ import annotations


class KnownError(Exception):
    """A failure the user can understand and act on."""

    exit_code = 1

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def bilingual(self) -> str:
        return f"{self.en} / {self.zh}"


class StoreError(KnownError):
    """The database cannot be opened or written (locked, corrupt, read-only, full)."""

    exit_code = 3


class StoreBusyError(StoreError):
    """Another connection holds the write lock (kefu's own import, when holder_pid is set): worth
    waiting for and trying again, unlike the other StoreErrors."""

    def __init__(self, zh: str, en: str, holder_pid: int | None = None) -> None:
        super().__init__(zh, en)
        self.holder_pid = holder_pid


class ValidationError(KnownError):
    """A value given by the user is not acceptable (unknown field, duplicate code, ...)."""

    exit_code = 2

    def __init__(self, zh: str, en: str, field: str | None = None) -> None:
        super().__init__(zh, en)
        self.field = field


class NotFoundError(KnownError):
    exit_code = 4


class ImportFileError(KnownError):
    """An import file is malformed; nothing was written."""

    exit_code = 5

    def __init__(self, zh: str, en: str, row: int | None = None) -> None:
        super().__init__(zh, en)
        self.row = row


class ImportBracesError(ImportFileError):
    """A Qianniu phrase holds braces that are no fill-in field ({x}, a lone "{"): importing again
    with keep_braces keeps them as literal text."""
