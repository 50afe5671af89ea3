"""Benchmarks print their figures straight to the terminal, in CI too (no -s needed)."""

import pytest


@pytest.fixture(autouse=True)
def _show_figures(capsys):
    with capsys.disabled():
        yield
