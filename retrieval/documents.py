"""Import of policy documents that carry no clause ids (Markdown, plain text, HTML): ids come from headings.

An id built from headings stays the same when unrelated sections change, which keeps citations stable.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from base.errors import PackError
from retrieval.packs import PACK_NAME, Clause, Pack

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def slug(text: str) -> str:
    """Lowercase words joined by hyphens: the id part one heading contributes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".html", ".htm")


def import_document(path: Path, version: str = "1.0") -> Pack:
    """Turn a Markdown, plain-text or HTML policy document into a pack (one clause per section)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(
            str(path), None, f"cannot read the document ({exc})", "give a readable UTF-8 Markdown, text or HTML file"
        ) from None
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = html_to_markdown(text)
    elif suffix in (".txt", ".text"):
        text = text_to_markdown(text)
    return markdown_pack(text, path, version)


def text_to_markdown(text: str) -> str:
    """Plain text: a short line without final punctuation, followed by text, is taken as a heading.

    Paragraphs without a heading get an id from their first words, so that adding or removing an
    unrelated paragraph never renumbers them.
    """
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    out: list[str] = []
    for block in blocks:
        first, _, rest = block.partition("\n")
        if rest and len(first) <= 80 and not first.rstrip().endswith((".", ",", ";", ":")):
            out.append(f"## {first.strip()}\n{rest}")
        elif len(blocks) > 1:
            out.append(f"## {' '.join(block.split()[:6])}\n{block}")
        else:
            out.append(block)
    return "\n\n".join(out)


class _HtmlText(HTMLParser):
    """Collects headings as Markdown headings and everything else as text lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._heading = 0
        self._skip = 0
        self._buffer: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.lines.append(("#" * self._heading + " " if self._heading else "") + text)
        self._buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag in ("p", "li", "br", "div", "tr", "section", "article"):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = 0
        elif tag in ("p", "li", "div", "tr", "section", "article"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buffer.append(data)


def html_to_markdown(text: str) -> str:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)


def markdown_pack(text: str, path: Path, version: str = "1.0") -> Pack:
    """One clause per Markdown section that has text of its own; ids are the slugged heading path."""
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
