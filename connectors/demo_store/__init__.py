"""The bundled Northwind demo store: a seeded SQLite back office exposed as MCP tools.

Run the MCP server with ``python -m connectors.demo_store.server --db PATH [--http --port N]``.
"""

from connectors.demo_store.store import DemoStore, ToolSpec, open_store

__all__ = ["DemoStore", "ToolSpec", "open_store"]
