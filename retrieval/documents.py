"""Import of policy documents that carry no clause ids (Markdown, plain text, HTML): ids come from headings.

A long section is cut into its rules: paragraphs, list items, a list with the sentence that leads into it,
groups of sentences. A rule buried in a 300-word section scores below the retrieval floor, so it would
never be found or cited on its own. Every piece keeps the path of its headings as its title, so the
context travels with it. An id is the slugged heading path plus a few words of the piece, never a
running number: it stays the same when the document is imported again, and when unrelated sections or
paragraphs change, which keeps citations and version diffs meaningful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from base.errors import PackError
from retrieval.limits import DEFAULT_LIMITS, PackLimits
from retrieval.packs import PACK_NAME, Clause, Pack, check_clauses, read_bounded

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])\s+\S")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(*_\[A-Z0-9])")
_WORD = re.compile(r"[^\W_]+")

SECTION_WORDS = 60
"""A section of up to this many words stays one clause: cutting it up would only separate a rule from its context."""
GROUP_WORDS = 60
"""A list with its lead-in stays one clause up to this many words (a rule and its cases read together);
a longer one becomes a clause per item. Also the size of the sentence groups a long paragraph is cut into."""
PARAGRAPH_WORDS = 80
"""A paragraph longer than this is cut into groups of whole sentences."""
MIN_WORDS = 5
"""A piece shorter than this (a stray line such as "See below.") joins its neighbour instead of standing alone."""
LABEL_WORDS = 4
"""A lead-in line of up to this many words ending in ':' ("Payment:") names its list like a heading."""
SLUG_WORDS = 4
"""Words of a piece that make its id part: enough to tell the rules of one section apart."""
TITLE_SEPARATOR = " › "
"""Joins the heading path in a clause title ("Book flight › Payment")."""
_SLUG_STOP = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "each",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "per",
        "so",
        "than",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "those",
        "to",
        "was",
        "were",
        "which",
        "will",
        "with",
    )
)
"""Words an id can do without. Frozen here, not shared with search, because ids must not change between releases."""

DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".html", ".htm")


def slug(text: str) -> str:
    """Lowercase words joined by hyphens: the id part one heading contributes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def import_document(path: Path, version: str = "1.0", limits: PackLimits = DEFAULT_LIMITS) -> Pack:
    """Turn a Markdown, plain-text or HTML policy document into a pack (one clause per rule, see the module),
    read and cut within ``limits``."""
    try:
        with path.open("rb") as source:
            data = read_bounded(source, limits.pack_max_bytes)
        if data is None:
            raise limits.exceeded(str(path), None, "the document is too large", "pack_max_bytes", "split it")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(
            str(path), None, f"cannot read the document ({exc})", "give a readable UTF-8 Markdown, text or HTML file"
        ) from None
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = html_to_markdown(text)
    elif suffix in (".txt", ".text"):
        text = text_to_markdown(text)
    pack = markdown_pack(text, path, version)
    check_clauses(list(pack.clauses), limits)
    return pack


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
    """Writes the page as Markdown: headings, list items (nested lists indented) and every other block
    as a paragraph of its own, so that the splitter sees the same structure as in a Markdown document."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._heading = 0
        self._skip = 0
        self._lists = 0
        """Depth of the open <ul>/<ol> elements."""
        self._item = False
        """The text being collected opens a list item."""
        self._buffer: list[str] = []

    def flush(self, paragraph_end: bool = True) -> None:
        text = " ".join("".join(self._buffer).split())
        self._buffer = []
        if not text:
            return
        if self._heading:
            self.lines += ["", "#" * self._heading + " " + text, ""]
        elif self._item:
            self.lines.append("  " * (self._lists - 1) + "- " + text)
        elif self._lists:
            self.lines.append("  " * self._lists + text)
        else:
            self.lines += [text, ""] if paragraph_end else [text]
        self._item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self._heading = int(tag[1])
        elif tag in ("ul", "ol"):
            self.flush()
            self._lists += 1
        elif tag == "li":
            self.flush()
            self._item = self._lists > 0
        elif tag == "br":
            self.flush(paragraph_end=False)
        elif tag in ("td", "th"):
            self._buffer.append(" ")
        elif tag in ("p", "div", "tr", "section", "article"):
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self._heading = 0
        elif tag in ("ul", "ol"):
            self.flush()
            self._lists = max(0, self._lists - 1)
            if not self._lists:
                self.lines.append("")  # what follows the list is not one of its items
        elif tag in ("p", "li", "div", "tr", "section", "article"):
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buffer.append(data)


def html_to_markdown(text: str) -> str:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    parser.flush()
    return "\n".join(parser.lines)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _key(text: str) -> str:
    """The id part of a piece: its first few words that carry meaning, slugged."""
    words = re.findall(r"[a-z0-9]+", _MARKER.sub("", text, count=1).lower())
    kept = [w for w in words if w not in _SLUG_STOP] or words
    return "-".join(kept[:SLUG_WORDS]) or "part"


@dataclass
class _Block:
    """A paragraph, or one top-level list item with its nested items and continuation lines."""

    item: bool
    line: int
    lines: list[str]
    tight: bool
    """No blank line before it: a paragraph right above a tight list leads into it."""

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines).strip()


@dataclass(frozen=True)
class _Piece:
    """One clause-to-be of a section: where it starts, what it adds to the section's id and title, its text."""

    line: int
    key: str
    label: str
    text: str


def _blocks(body: list[tuple[int, str]]) -> list[_Block]:
    """The paragraphs and top-level list items of a section body; a fenced code block is never cut."""
    blocks: list[_Block] = []
    blank = True
    fenced = False
    indent = 0
    for number, line in body:
        current = blocks[-1] if blocks else None
        fence = _FENCE.match(line) is not None
        if fenced or fence:
            if current is None or (blank and not fenced):
                blocks.append(_Block(False, number, [line], tight=not blank))
            else:
                current.lines.append(line)
            fenced = fenced != fence
            blank = False
            continue
        if not line.strip():
            blank = True
            continue
        depth = len(line) - len(line.lstrip())
        in_list = current is not None and current.item
        if _ITEM.match(line) and not (in_list and depth > indent):
            indent = depth if not in_list else min(indent, depth)
            blocks.append(_Block(True, number, [line], tight=not blank))
        elif current is not None and ((in_list and depth > indent) or not blank):
            current.lines.append(line)  # a nested item, an indented or lazy continuation, or the paragraph goes on
        else:
            blocks.append(_Block(False, number, [line], tight=not blank))
        blank = False
    return blocks


def _label(lead: _Block) -> str:
    """The name a short lead-in line such as ``Payment:`` gives its list, or '' for a lead-in sentence."""
    bare = lead.text.strip("*_ ")
    if len(lead.lines) > 1 or not bare.endswith(":"):
        return ""
    name = bare[:-1].strip("*_ ")
    return name if name and _words(name) <= LABEL_WORDS and not re.search(r"[.,;!?]", name) else ""


def _list_pieces(lead: _Block | None, items: list[_Block]) -> list[_Piece]:
    """A list with its lead-in: one piece while short, else a piece per item, each carrying the lead-in."""
    label = _label(lead) if lead else ""
    intro = lead.text if lead and not label else ""
    prefix = f"{slug(label)}." if label else ""
    if _words(lead.text if lead else "") + sum(_words(item.text) for item in items) <= GROUP_WORDS:
        first = lead or items[0]
        text = "\n".join([intro, *(item.text for item in items)]).strip()
        return [_Piece(first.line, slug(label) if label else _key(first.text), label, text)]
    return [_Piece(item.line, prefix + _key(item.text), label, f"{intro}\n{item.text}".strip()) for item in items]


def _paragraph_pieces(block: _Block) -> list[_Piece]:
    """A paragraph as one piece, or a long one as groups of whole sentences (code and tables stay whole)."""
    if _words(block.text) <= PARAGRAPH_WORDS or block.text.startswith(("|", "```", "~~~")):
        return [_Piece(block.line, _key(block.text), "", block.text)]
    groups: list[list[str]] = [[]]
    for sentence in _SENTENCE_END.split(" ".join(block.text.split())):
        if groups[-1] and _words(" ".join([*groups[-1], sentence])) > GROUP_WORDS:
            groups.append([])
        groups[-1].append(sentence)
    return [_Piece(block.line, _key(group[0]), "", " ".join(group)) for group in groups]


def _pieces(blocks: list[_Block]) -> list[_Piece]:
    """A section's blocks as pieces; a piece too small to mean anything on its own joins its neighbour."""
    pieces: list[_Piece] = []
    at = 0
    while at < len(blocks):
        block = blocks[at]
        end = at + 1
        while end < len(blocks) and blocks[end].item:
            end += 1
        if block.item:
            pieces += _list_pieces(None, blocks[at:end])
        elif end > at + 1 and (block.text.endswith(":") or blocks[at + 1].tight):
            pieces += _list_pieces(block, blocks[at + 1 : end])
        else:
            pieces += _paragraph_pieces(block)
            end = at + 1
        at = end
    # Texts are gathered and joined once per piece: joining as they come was quadratic in a long run of
    # short list items (100,000 one-word items took seconds; a 50 MB document would take hours).
    merged: list[tuple[_Piece, list[str], int]] = []  # (piece, its texts, its words)
    for piece in pieces:
        words = _words(piece.text)
        if merged and (words < MIN_WORDS or merged[-1][2] < MIN_WORDS):
            first, texts, count = merged[-1]
            texts.append(piece.text)
            merged[-1] = (first if words < MIN_WORDS else replace(piece, line=first.line), texts, count + words)
        else:
            merged.append((piece, [piece.text], words))
    return [replace(piece, text="\n".join(texts)) for piece, texts, _ in merged]


def _section(
    section_id: str, path: list[str], line: int, body: list[tuple[int, str]]
) -> list[tuple[str, str, str, int]]:
    """(id, title, text, line) of each clause of one section: the whole section while short, else its pieces."""
    text = "\n".join(part for _, part in body).strip()
    if not text:
        return []
    whole = [(section_id, TITLE_SEPARATOR.join(path), text, line)]
    if _words(text) <= SECTION_WORDS:
        return whole
    pieces = _pieces(_blocks(body))
    if len(pieces) < 2:
        return whole
    return [
        (f"{section_id}.{p.key}", TITLE_SEPARATOR.join([*path, p.label] if p.label else path), p.text, p.line)
        for p in pieces
    ]


def markdown_pack(text: str, path: Path, version: str = "1.0") -> Pack:
    """Clauses from the Markdown sections that have text of their own; ids are the slugged heading path,
    plus a few words of the piece where a long section is cut into its rules."""
    name = slug(path.stem)
    if not PACK_NAME.match(name):
        name = "document"
    title = path.stem
    trail: list[tuple[int, str, str]] = []
    clauses: list[Clause] = []
    used: dict[str, int] = {}
    section: tuple[str, list[str], int] = ("overview", ["Overview"], 1)
    body: list[tuple[int, str]] = []

    def close() -> None:
        for clause_id, heading, content, line in _section(*section, body):
            count = used.get(clause_id, 0)
            used[clause_id] = count + 1
            unique = clause_id if count == 0 else f"{clause_id}-{count + 1}"
            clauses.append(Clause(unique, heading, content, str(path), line))

    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        fenced = fenced != (_FENCE.match(line) is not None)
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            body.append((number, line))
            continue
        level, heading_text = len(heading.group(1)), heading.group(2)
        if level == 1:
            title = heading_text
            continue
        close()
        body = []
        trail = [part for part in trail if part[0] < level] + [(level, heading_text, slug(heading_text))]
        section = (".".join(part[2] for part in trail), [part[1] for part in trail], number)
    close()
    if not clauses:
        raise PackError(str(path), None, "the document has no text under any heading", "add sections with text")
    return Pack(name, version, title, (), date(2000, 1, 1), None, tuple(clauses))
