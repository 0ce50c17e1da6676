"""The demo store's MCP server over stdio, with one fault on the first write call: run as
``python -m tests.fakes.faulty_mcp --db F --fault timeout|crash_after --marker M``.

The fault fires once (the marker file remembers it across restarts of the process): ``timeout``
applies the change and then answers only after the client gave up; ``crash_after`` applies the change
and the process dies before answering, which the client sees as a dropped connection.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import anyio

from connectors.demo_store.server import _serve_stdio, build_server
from connectors.demo_store.store import DemoStore


class OneFault(DemoStore):
    def __init__(self, path: Path, fault: str, marker: Path, stall_s: float) -> None:
        super().__init__(path)
        self.fault, self.marker, self.stall_s = fault, marker, stall_s
        self._writes = {s.name for s in self.tools() if not s.read_only}

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = super().call(tool, arguments)
        if tool in self._writes and not arguments.get("dry_run") and not self.marker.exists():
            self.marker.touch()
            if self.fault == "timeout":
                time.sleep(self.stall_s)
            elif self.fault == "crash_after":
                os._exit(1)
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--fault", choices=("timeout", "crash_after"), required=True)
    parser.add_argument("--marker", type=Path, required=True)
    parser.add_argument("--stall", type=float, default=5.0)
    args = parser.parse_args()
    store = OneFault(args.db, args.fault, args.marker, args.stall)
    try:
        anyio.run(_serve_stdio, build_server(store))
    finally:
        store.close()


if __name__ == "__main__":
    main()
