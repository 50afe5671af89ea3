"""Entry point of the frozen app (PyInstaller): the same as `kefu` — without arguments it opens the panel."""

import sys

from assistant.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
