"""Team mode against real servers on 127.0.0.1: the records tests' PostgreSQL server and a Chroma server
(``chroma run``) started here, once per run; each test gets a database and a Chroma folder's worth of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.records.conftest import _free_port, postgres_server

__all__ = ["postgres_server"]

CHROMA_START_S = 60
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server (the `chroma` the virtualenv installs) on a free port: its URL."""
    binary = Path(sys.executable).with_name("chroma")
    if not binary.exists() and not shutil.which("chroma"):
        pytest.skip("the `chroma` command is not installed (pip install chromadb brings it)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(binary if binary.exists() else "chroma"),
            "run",
            "--path",
            str(folder / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + CHROMA_START_S
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(folder / 'server.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def team_database(postgres_server: str) -> Iterator[str]:
    """An empty database of its own on the run's PostgreSQL server."""
    name = f"team_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def team_desk(folder: Path, database: str, chroma: str, **more: object) -> Path:
    """A desk's data folder in team mode on these servers."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"storage": "team", "database_url": database, "chroma_url": chroma, "team_poll_s": 0.2, **more}
    (folder / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return folder


def run_copilot(home: Path, *arguments: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the `copilot` command as the desk of data folder ``home`` would (fails the test when it fails, unless
    ``check`` is False)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *arguments],
        env={**os.environ, "COPILOT_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert not check or done.returncode == 0, done.stdout + done.stderr
    return done
