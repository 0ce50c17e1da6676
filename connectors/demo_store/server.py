"""The demo store as an MCP server, over stdio or streamable HTTP.

The tool schemas are the store's own JSON schemas, so this uses the SDK's low-level ``Server``
(the high-level one derives schemas from Python signatures). Each result is sent twice, as
structured content and as JSON text, for clients that read only one. A refusal or a bad argument
is a tool result with ``isError`` set, never a protocol error: the rep (or the model) sees why.

    python -m connectors.demo_store.server --db store.sqlite3                  # stdio
    python -m connectors.demo_store.server --db store.sqlite3 --http --port 0  # prints its URL
"""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import uvicorn
from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from starlette.applications import Starlette

from base.errors import BusinessRefusal
from connectors.demo_store.store import DemoStore, ToolSpec

SERVER_NAME = "northwind-demo-store"
MCP_PATH = "/mcp"


def build_server(store: DemoStore) -> Server[Any]:
    """An MCP server exposing every tool of ``store``; calls run in a worker thread (the store is sync)."""
    specs = {spec.name: spec for spec in store.tools()}
    tools = [_mcp_tool(spec) for spec in specs.values()]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in specs:
            return _error(f"Unknown tool: {params.name}")
        try:
            result = await anyio.to_thread.run_sync(store.call, params.name, params.arguments or {})
        except BusinessRefusal as refusal:
            return _error(str(refusal))
        except ValueError as problem:
            return _error(f"Invalid arguments: {problem}")
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(result, ensure_ascii=False))],
            structured_content=result,
        )

    return Server(
        SERVER_NAME,
        version="1.0",
        title="Northwind demo store",
        instructions="Northwind's back office: look up customers and orders, and act on them. "
        "Every write needs an idempotency_key; pass dry_run=true to preview its changes.",
        get_tool_input_schema=lambda name: specs[name].input_schema if name in specs else None,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def http_app(store: DemoStore, host: str = "127.0.0.1") -> Starlette:
    """The streamable HTTP transport's ASGI app, serving MCP at ``/mcp`` (its lifespan runs the sessions)."""
    return build_server(store).streamable_http_app(streamable_http_path=MCP_PATH, host=host)


def run_stdio(db_path: Path) -> None:
    """Serve one client on stdin/stdout until it closes stdin."""
    store = DemoStore(db_path)
    try:
        anyio.run(_serve_stdio, build_server(store))
    finally:
        store.close()


def run_http(db_path: Path, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve streamable HTTP until interrupted; prints ``listening URL`` once the port is bound.

    The socket is bound and listening before the line is printed, so a client that reads the line
    can connect at once (the kernel queues it until the server accepts); port 0 picks a free port.
    """
    store = DemoStore(db_path)
    listener = socket.create_server((host, port))
    try:
        print(f"listening http://{host}:{listener.getsockname()[1]}{MCP_PATH}", flush=True)
        config = uvicorn.Config(http_app(store, host), log_level="warning", lifespan="on")
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
        store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.demo_store.server", description="Serve the Northwind demo store over MCP."
    )
    parser.add_argument("--db", type=Path, required=True, help="SQLite file; created and seeded if it does not exist")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default 0: pick a free one)")
    args = parser.parse_args(argv)
    if args.http:
        run_http(args.db, args.host, args.port)
    else:
        run_stdio(args.db)


async def _serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _mcp_tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=dict(spec.input_schema),
        annotations=types.ToolAnnotations(
            title=spec.name.replace("_", " ").capitalize(),
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=True,  # reads trivially; writes because a repeated key replays the first result
            open_world_hint=False,
        ),
        meta={"compensatedBy": spec.compensated_by} if spec.compensated_by else None,
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


if __name__ == "__main__":
    main()
