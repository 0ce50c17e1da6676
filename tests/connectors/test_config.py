"""`connectors.toml`: good files load; bad ones name the entry and the field, and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ConfigError
from connectors.config import load_connectors
from copilot.actions.connections import configured


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connectors.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_and_demo_mode_without_one(tmp_path: Path) -> None:
    systems = load_connectors(
        write(
            tmp_path,
            '[[system]]\nname = "store"\ntransport = "http"\n'
            'url = "http://127.0.0.1:8123/mcp"\ntoken_env = "STORE_TOKEN"\n'
            'pre_approved = ["get_order"]\n',
        )
    )
    assert [(s.name, s.transport, s.timeout_s, s.pre_approved) for s in systems] == [
        ("store", "http", 10.0, ("get_order",))
    ]
    (tmp_path / "connectors.toml").unlink()
    demo = configured(tmp_path)
    assert [s.name for s in demo] == ["demo-store"] and demo[0].transport == "stdio"


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[[system]]\nname = "a"\ntransport = "http"\n', "[[system]] #1: Value error, a http system needs 'url'"),
        ('[[system]]\nname = "a"\ntransport = "stdio"\n', "[[system]] #1: Value error, a stdio system needs 'command'"),
        ('[[system]]\nname = "a"\ntransport = "ftp"\nurl = "http://x"\n', "[[system]] #1.transport:"),
        (
            '[[system]]\nname = "a"\ntransport = "rest"\nurl = "http://x"\ntoken = "sk-123"\n',
            "[[system]] #1.token: Extra inputs are not permitted",
        ),
        (
            '[[system]]\nname = "a"\ntransport = "rest"\nurl = "http://x"\n'
            '[[system]]\nname = "a"\ntransport = "rest"\nurl = "http://y"\n',
            "two systems are named 'a'",
        ),
        ('[[system]\nname = "a"\n', "not valid TOML"),
    ],
)
def test_bad_files_name_entry_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_connectors(write(tmp_path, text))
    assert str(error.value).startswith(str(tmp_path / "connectors.toml"))
    assert expected in str(error.value)
