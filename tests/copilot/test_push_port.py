"""The push endpoint's port as settings.json gives it: a value that is not a port is named, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.errors import CopilotError
from copilot.settings import SETTINGS_FILE, Settings


@pytest.mark.parametrize("value", ["8787x", -1, 70000, True, 80.5])
def test_a_listen_port_that_is_not_a_port_is_named(tmp_path: Path, value: object) -> None:
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"listen_port": value}), encoding="utf-8")
    with pytest.raises(CopilotError, match=r"settings.json: listen_port is .*, not a port; set a whole number"):
        Settings.load(tmp_path).push_port()


def test_zero_means_any_free_port(tmp_path: Path) -> None:
    Settings(listen_port=0).save(tmp_path)
    assert Settings.load(tmp_path).push_port() == 0
