"""`kefu` and `python -m assistant`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        return _panel()
    from .cli import main as cli_main

    return cli_main(argv)


def _panel() -> int:
    """`kefu` alone starts the panel without building the CLI's parser tree (~50 ms of imports, issue 17);
    what cli.main does for it, and only that."""
    try:
        from .app import run
    except ImportError as exc:  # Qt missing in a CLI-only install
        sys.stderr.write(f"Error: cannot start the panel ({exc}) / 错误：无法启动面板\n")
        return 1
    from .errors import KnownError

    try:
        return run()
    except KnownError as exc:
        sys.stderr.write("Error: " + " ".join(exc.bilingual().split("\n")).strip() + "\n")  # as cli.out.error
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
