"""The portal starts with every capability or not at all: a module that fails to import stops start-up loudly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import get_settings
from bot.web import app as portal


def test_the_portal_serves_the_widget_the_console_and_the_secretariat() -> None:
    paths = {route.path for route in portal.create_app(get_settings()).router.routes}
    assert {"", "agents", "secretariat", "api/v1/answers"} <= paths


@pytest.mark.parametrize("source", [None, "import numecrivain_dependency_that_is_not_installed\n",
                                    "def register(app):\n    raise AssertionError('never registered')\n1 / 0\n"])
def test_a_capability_that_cannot_be_imported_stops_start_up_with_a_clear_log(
        source: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    if source is not None:  # None: the module itself is missing (a renamed file, a broken package)
        (tmp_path / "broken_capability.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(portal, "CAPABILITIES", (*portal.CAPABILITIES, "broken_capability"))
    with caplog.at_level(logging.CRITICAL, logger="bot.web.app"), \
            pytest.raises(portal.CapabilityImportError, match="broken_capability"):
        portal.create_app(get_settings())
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "broken_capability" in record.getMessage() and "does not start" in record.getMessage()
