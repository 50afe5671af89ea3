"""Benchmarks print their figures straight to the terminal, in CI too (no -s needed)."""

import pytest


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):
    # trylast makes this the innermost wrapper: capture has already been resumed for the test
    # body by pytest's own wrapper, and is switched off here for benchmark files only.
    capman = item.config.pluginmanager.getplugin("capturemanager")
    if capman is None or "benchmarks" not in item.path.parts:
        yield
        return
    with capman.global_and_fixture_disabled():
        yield
