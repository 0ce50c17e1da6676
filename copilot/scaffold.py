"""`copilot packs scaffold`: a pack folder to start from, made from a policy document and a running server.

It writes what can be read off the two sources and leaves the judgement to the admin: the document's
clauses with ids, `systems.toml` with every tool the server lists (schema and read-only hint, as
comments) and guesses at the identifying lookups and record kinds, `actions.toml` with one entry per
write tool whose rule blocks until the admin writes the real one (a scaffold never lets a write run
unchecked), and a `playbooks.toml` template. The folder loads as it is; see docs/policy-packs.md.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from base.errors import PackError
from connectors.config import SystemConfig
from connectors.systems import ToolInfo, open_system
from retrieval.documents import import_document
from retrieval.packs import Pack

_LOOKUP = re.compile(r"^(?:get|fetch|read|lookup|find)_(?P<kind>[a-z0-9_]+?)(?:_details|_info|_by_id)?$")
_IDENTIFIES = re.compile(r"user|customer|member|account|client")
_TRANSFER = re.compile(r"transfer|escalate|handoff|human")


async def server_tools(command: str) -> tuple[ToolInfo, ...]:
    """The tools a stdio MCP server started with ``command`` lists."""
    system = open_system(SystemConfig(name="scaffold", transport="stdio", command=tuple(shlex.split(command))))
    try:
        return await system.tools()
    finally:
        await system.aclose()


def write_scaffold(policy: Path, tools: tuple[ToolInfo, ...], folder: Path) -> Pack:
    """Write the pack folder; refuses a folder that already has files, so nothing of the admin's is lost."""
    if folder.exists() and any(folder.iterdir()):
        raise PackError(str(folder), None, "the folder is not empty", "name a new folder with -o")
    pack = import_document(policy)
    (folder / "clauses").mkdir(parents=True)
    (folder / "pack.toml").write_text(_manifest(pack), encoding="utf-8")
    (folder / "clauses" / "policy.md").write_text(_clauses(pack), encoding="utf-8")
    (folder / "systems.toml").write_text(_systems(tools), encoding="utf-8")
    (folder / "actions.toml").write_text(_actions(tools), encoding="utf-8")
    (folder / "playbooks.toml").write_text(PLAYBOOKS, encoding="utf-8")
    return pack


def _manifest(pack: Pack) -> str:
    lines = ["[pack]", f"name = {json.dumps(pack.name)}", f"version = {json.dumps(pack.version)}"]
    lines.append(f"title = {json.dumps(pack.title)}")
    lines.append(f"jurisdictions = {json.dumps(list(pack.jurisdictions))}")
    if pack.effective_from:
        lines.append(f'effective_from = "{pack.effective_from.isoformat()}"')
    return "\n".join(lines) + "\n"


def _clauses(pack: Pack) -> str:
    return "".join(f"## {c.title} {{#{c.id}}}\n{c.text.strip()}\n\n" for c in pack.clauses)


def _kind(tool: ToolInfo) -> tuple[str, str] | None:
    """(record kind, id argument) of a read-only tool that fetches one record by one id argument."""
    match = _LOOKUP.match(tool.name)
    required = list(tool.schema.get("required", []))
    if not tool.read_only or match is None or len(required) != 1 or not required[0].endswith("id"):
        return None
    return match.group("kind"), required[0]


def _described(tool: ToolInfo) -> str:
    properties = tool.schema.get("properties", {})
    required = set(tool.schema.get("required", []))
    arguments = ", ".join(f"{name}{'' if name in required else '?'}" for name in properties)
    kind = "read-only" if tool.read_only else "WRITES"
    summary = " ".join(tool.description.split())[:100]
    return f"#   {tool.name}({arguments})  [{kind}]  {summary}"


def _systems(tools: tuple[ToolInfo, ...]) -> str:
    out = [
        "# How the copilot identifies customers and looks records up (docs/policy-packs.md).",
        "# The server lists these tools (? = optional argument):",
        *(_described(t) for t in tools),
        "",
    ]
    for tool in tools:
        required = list(tool.schema.get("required", []))
        if tool.read_only and _IDENTIFIES.search(tool.name) and required:
            out += ["# Guessed: check it identifies the customer.", "[[identify]]", f'tool = "{tool.name}"']
            out += [f"by = {json.dumps(required)}", ""]
    for tool in tools:
        if (kind := _kind(tool)) is not None:
            out += [
                "# Guessed: a record kind. Add `pattern` (how its ids look), `owner` (the path naming its customer).",
                "[[record]]",
                f'name = "{kind[0]}"',
                f'tool = "{tool.name}"',
                f'key = "{kind[1]}"',
                "",
            ]
    transfer = next((t for t in tools if not t.read_only and _TRANSFER.search(t.name)), None)
    if transfer is not None:
        out += ["[transfer]", f'tool = "{transfer.name}"', ""]
    return "\n".join(out)


def _actions(tools: tuple[ToolInfo, ...]) -> str:
    keys = {kind[1]: kind[0] for t in tools if (kind := _kind(t)) is not None}
    out = [
        "# What each write tool may do (docs/policy-packs.md). Every tool below is blocked by its TODO rule",
        "# until you replace it with the policy's conditions, each citing the clause it enforces.",
        'identity_clause = ""   # the clause that says who must be identified before a change',
        'ownership_clause = ""  # the clause that says a customer acts only on their own records',
        'unlisted = "block"',
        "",
    ]
    for tool in tools:
        if tool.read_only:
            continue
        arguments = [name for name in tool.schema.get("properties", {}) if name in keys]
        records = ", ".join(f'{keys[name]} = "args.{name}"' for name in arguments)
        out += [_described(tool).replace("#   ", "# ", 1), "[[tool]]", f'name = "{tool.name}"']
        if records:
            out.append(f"records = {{ {records} }}")
        out += [
            "",
            "  [[tool.rule]]",
            f'  id = "{tool.name.replace("_", "-")}-todo"',
            '  require = "false"  # TODO: the conditions under which the policy allows this',
            f'  message = "No rule for {tool.name} has been written yet."',
            "",
        ]
    return "\n".join(out)


PLAYBOOKS = """# Intents and resolution paths (docs/policy-packs.md, playbooks.toml). A template to fill in:
#
# [[playbook]]
# intent = "cancel_booking"
# title = "Cancel a booking"
# examples = ["I need to cancel my booking", "please cancel reservation ABC123"]
# clauses = ["cancel.eligibility"]
#
#   [[playbook.path]]
#   title = "Eligible: cancel it"
#   steps = [{ text = "Look the booking up, check the cancellation rules" }, { text = "State it, get a yes" }]
#   clauses = ["cancel.eligibility"]
#   actions = ["cancel_reservation"]
"""
