"""Import of plain Markdown documents that carry no clause ids: ids come from the heading path.

An id built from headings stays the same when unrelated sections change, which keeps citations stable.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from copilot.errors import PackError
from retrieval.packs import PACK_NAME, Clause, Pack

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def slug(text: str) -> str:
    """Lowercase words joined by hyphens: the id part one heading contributes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def import_markdown(path: Path, version: str = "1.0") -> Pack:
    """Turn a Markdown policy document into a pack: one clause per section that has text of its own."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(str(path), None, f"cannot read the document ({exc})", "give a readable UTF-8 Markdown file") from None
    name = slug(path.stem)
    if not PACK_NAME.match(name):
        name = "document"
    title = path.stem
    trail: list[tuple[int, str]] = []
    clauses: list[Clause] = []
    used: dict[str, int] = {}
    current: tuple[str, str, int] | None = ("overview", "Overview", 1)
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        content = "\n".join(body).strip()
        if content:
            clause_id, heading, line = current
            count = used.get(clause_id, 0)
            used[clause_id] = count + 1
            unique = clause_id if count == 0 else f"{clause_id}-{count + 1}"
            clauses.append(Clause(unique, heading, content, str(path), line))

    for number, line in enumerate(text.splitlines(), start=1):
        heading = _HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        level, heading_text = len(heading.group(1)), heading.group(2)
        if level == 1:
            title = heading_text
            continue
        close()
        body = []
        trail = [(lvl, part) for lvl, part in trail if lvl < level] + [(level, slug(heading_text))]
        current = (".".join(part for _, part in trail), heading_text, number)
    close()
    if not clauses:
        raise PackError(str(path), None, "the document has no text under any heading", "add sections with text")
    return Pack(name, version, title, (), date(2000, 1, 1), None, tuple(clauses))
