"""The `kefu` command line: main (parser, context, backup/restore/doctor/settings), and one module
per command family (replies, buyers, handover, paste, desktop) over core; `out` prints. No Qt import
unless the panel is started."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
