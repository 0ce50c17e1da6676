"""Connected back-office systems the copilot drives through MCP tools (a bundled demo store for now)."""
