"""Policy packs: the on-disk format (folder or .zip), its validation, and the citation form.

A pack is ``pack.toml`` with a ``[pack]`` table plus ``clauses/*.md``; each clause is a Markdown
heading of level 2 or deeper carrying a stable id (``## Refund window {#refunds.window}``) followed
by its text. Level-1 headings title a file and are not clauses. See docs/policy-packs.md.

A pack is read within its limits (retrieval/limits.py): only the files a pack is made of are read,
each to the bound and no further, and a .zip entry that names a place outside the pack, or a link,
refuses the whole pack.
"""

from __future__ import annotations

import lzma
import os
import re
import stat
import tomllib
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import IO

from packaging.version import InvalidVersion, Version

from base.errors import PackError
from retrieval.limits import DEFAULT_LIMITS, PackLimits

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_ID_SUFFIX = re.compile(r"\{#([^}\s]*)([^}]*)\}\s*$")
_ATTRIBUTE = re.compile(r"^([a-z_]+)=(\S+)$")
CLAUSE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
READ_BLOCK = 1 << 20
"""Bytes read (or decompressed) at a time, each counted against the limits before the next."""
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
"""What zipfile raises on a damaged, encrypted or unsupported archive (RuntimeError: a password is needed)."""
PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
GUIDANCE_FILES = (
    "actions.toml",
    "escalation-examples.jsonl",
    "escalation.toml",
    "playbooks.toml",
    "qa.toml",
    "rules.toml",
    "systems.toml",
)
"""Optional files beside pack.toml (sorted, as the catalog returns them): labelled customer messages the
escalation classifier learns from, the escalation taxonomy, intents with resolution paths, the automated QA
checks with the root-cause taxonomy, compliance rules, the guardrails of each action and how the company's
systems are looked up."""
LANGUAGE = re.compile(r"^[a-z]{2}$")
"""A language as pack.toml's ``languages`` names it: an ISO 639-1 code (``en``, ``de``)."""
EXAMPLES_IN_LANGUAGE = re.compile(r"^escalation-examples\.([a-z]{2})\.jsonl$")
"""``escalation-examples.de.jsonl``: labelled customer messages in one of the pack's other languages."""


def citation(name: str, version: str, clause_id: str) -> str:
    """The stable citation of one clause: ``name@version#clause-id``."""
    return f"{name}@{version}#{clause_id}"


@dataclass(frozen=True)
class Clause:
    """One citable unit of policy."""

    id: str
    title: str
    text: str
    file: str
    """Path of the source file inside the pack, for error messages and admins."""
    line: int
    jurisdictions: tuple[str, ...] = ()
    """Regions this clause alone applies to (``{#id jurisdictions=UK,EU}``); empty: wherever the pack applies."""


@dataclass(frozen=True)
class Manifest:
    """What ``pack.toml`` says about one pack version; shared by a pack being loaded and a catalogued version."""

    name: str
    version: str
    title: str
    jurisdictions: tuple[str, ...]
    """Regions covered (``US`` covers ``US-CA``); empty covers every region."""
    effective_from: date
    effective_until: date | None

    @property
    def key(self) -> str:
        """``name@version``: how the store and the catalog name this version."""
        return f"{self.name}@{self.version}"

    def citation(self, clause: Clause) -> str:
        return citation(self.name, self.version, clause.id)


@dataclass(frozen=True)
class Pack(Manifest):
    """A validated pack version, ready to ingest."""

    clauses: tuple[Clause, ...]
    guidance: tuple[tuple[str, str], ...] = ()
    """(file name, TOML text) of the pack's reasoning data (GUIDANCE_FILES); parsed and checked in copilot/."""

    @classmethod
    def of(cls, manifest: Manifest, clauses: tuple[Clause, ...], guidance: tuple[tuple[str, str], ...] = ()) -> Pack:
        """A pack of ``manifest``'s version with these clauses and guidance files."""
        return cls(**{f.name: getattr(manifest, f.name) for f in fields(Manifest)}, clauses=clauses, guidance=guidance)


def load_pack(path: Path, limits: PackLimits = DEFAULT_LIMITS) -> Pack:
    """Read and validate a pack folder or .zip within ``limits``; raise PackError naming file, line and fix."""
    if path.is_dir():
        files = _read_folder(path, limits)
    elif path.suffix.lower() == ".zip" and path.is_file():
        files = _read_zip(path, limits)
    elif not path.exists():
        raise PackError(str(path), None, "no such file or folder", "give the path of a pack folder or .zip")
    else:
        raise PackError(
            str(path),
            None,
            "not a pack folder or .zip",
            "a pack is a folder holding pack.toml and clauses/*.md, or a .zip of one",
        )
    return parse_pack_files(files, str(path), limits)


def is_pack_file(name: str) -> bool:
    """Whether a file (a posix path inside the pack) is one a pack is made of: pack.toml, clauses/**/*.md and
    the guidance files (escalation examples in any language included); every other file is ignored, unread."""
    return (
        name == "pack.toml"
        or name in GUIDANCE_FILES
        or (name.startswith("clauses/") and name.endswith(".md"))
        or (name.startswith("escalation-examples.") and name.endswith(".jsonl") and "/" not in name)
    )


def read_bounded(source: IO[bytes], budget: int) -> bytes | None:
    """At most ``budget`` bytes of ``source``, or None once it holds more: reading stops at the bound."""
    blocks: list[bytes] = []
    while block := source.read(min(READ_BLOCK, budget + 1)):
        budget -= len(block)
        if budget < 0:
            return None
        blocks.append(block)
    return b"".join(blocks)


def _read_folder(root: Path, limits: PackLimits) -> dict[str, bytes]:
    """The pack's files of a folder, read within the limits; a link among them refuses the pack."""
    files: dict[str, bytes] = {}
    left = limits.pack_max_bytes
    for name, path in _folder_files(root):
        if len(files) == limits.pack_max_entries:
            raise limits.exceeded(
                f"{root}/{name}", None, "the pack has too many files", "pack_max_entries", "split the pack"
            )
        with path.open("rb") as source:
            data = read_bounded(source, left)
        if data is None:
            raise limits.exceeded(
                f"{root}/{name}", None, "the pack's files are too large together", "pack_max_bytes", "split the pack"
            )
        left -= len(data)
        files[name] = data
    return files


def _folder_files(root: Path) -> Iterable[tuple[str, Path]]:
    """(posix name, path) of a folder's pack files: its top level and its clauses/ tree, nothing else walked."""
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        inside = here.relative_to(root).as_posix()
        for entry in sorted(names + subfolders):
            path = here / entry
            name = entry if inside == "." else f"{inside}/{entry}"
            link = path.is_symlink()
            if link and (is_pack_file(name) or name == "clauses" or name.startswith("clauses/")):
                raise PackError(
                    str(path), None, "a link in a pack", "copy the file into the pack instead of linking to it"
                )
            if not link and entry in names and is_pack_file(name):
                yield name, path
        subfolders[:] = sorted(d for d in subfolders if d == "clauses" or inside.startswith("clauses"))


def _read_zip(path: Path, limits: PackLimits) -> dict[str, bytes]:
    """The pack's files of a .zip, each decompressed in blocks counted against the limits as they come."""
    if path.stat().st_size > limits.pack_max_bytes:
        raise limits.exceeded(str(path), None, "the archive is too large", "pack_max_bytes", "split the pack")
    try:
        with zipfile.ZipFile(path) as archive:
            return _unpack(path, archive, limits)
    except _ZIP_ERRORS as exc:
        raise PackError(
            str(path), None, f"unreadable zip ({exc})", "re-create the archive from the pack folder"
        ) from None


def _unpack(path: Path, archive: zipfile.ZipFile, limits: PackLimits) -> dict[str, bytes]:
    entries = archive.infolist()
    if len(entries) > limits.pack_max_entries:
        raise limits.exceeded(
            str(path), None, f"the archive has {len(entries):,} entries", "pack_max_entries", "split the pack"
        )
    names = [_entry_name(path, entry) for entry in entries]
    root = _single_root(names)
    files: dict[str, bytes] = {}
    left = limits.pack_max_unpacked_bytes
    for entry, name in zip(entries, names, strict=True):
        inside = name[len(root) :]
        if entry.is_dir() or not is_pack_file(inside):
            continue
        if inside in files:
            raise PackError(f"{path}!{name}", None, "the archive holds this file twice", "re-create the archive")
        with archive.open(entry) as source:
            data = read_bounded(source, left)
        if data is None:
            raise limits.exceeded(
                f"{path}!{name}",
                None,
                "the archive's files decompress to too much",
                "pack_max_unpacked_bytes",
                "split the pack",
            )
        left -= len(data)
        files[inside] = data
    return files


def _entry_name(path: Path, entry: zipfile.ZipInfo) -> str:
    """An entry's name, if it stays inside the pack: no absolute path, no drive, no '..', no link."""
    name = entry.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise PackError(
            f"{path}!{name}",
            None,
            "an archive entry names a place outside the pack",
            "re-create the archive from the pack folder, with paths relative to it",
        )
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise PackError(
            f"{path}!{name}", None, "a link in the archive", "re-create the archive with the file itself, not a link"
        )
    return name


def _single_root(names: list[str]) -> str:
    """``folder/`` when the archive holds one folder with the pack in it (a zip of the folder itself), else ''."""
    tops = {name.split("/", 1)[0] for name in names}
    if "pack.toml" in names or len(tops) != 1 or not all("/" in name for name in names if name):
        return ""
    return f"{tops.pop()}/"


def parse_pack_files(files: dict[str, bytes], origin: str, limits: PackLimits = DEFAULT_LIMITS) -> Pack:
    """Validate a pack given as {relative posix path: bytes}, its clauses within ``limits``."""
    manifest = files.get("pack.toml")
    if manifest is None:
        raise PackError(f"{origin}/pack.toml", None, "missing manifest", "add pack.toml with a [pack] table")
    meta = _parse_manifest(_decode(manifest, f"{origin}/pack.toml"), f"{origin}/pack.toml")
    clause_files = sorted(name for name in files if name.startswith("clauses/") and name.endswith(".md"))
    if not clause_files:
        raise PackError(
            f"{origin}/clauses", None, "no clause files", "add clauses/*.md files with `## Title {#id}` headings"
        )
    clauses: list[Clause] = []
    seen: dict[str, Clause] = {}
    for name in clause_files:
        for clause in parse_clauses(_decode(files[name], f"{origin}/{name}"), f"{origin}/{name}"):
            if clause.id in seen:
                first = seen[clause.id]
                raise PackError(
                    clause.file,
                    clause.line,
                    f"duplicate clause id '{clause.id}' (first at {first.file}:{first.line})",
                    "give each clause its own id; ids must stay stable across versions",
                )
            seen[clause.id] = clause
            clauses.append(clause)
        check_clauses(clauses, limits)
    names = _guidance_names(
        files, pack_languages(_decode(manifest, f"{origin}/pack.toml"), f"{origin}/pack.toml"), origin
    )
    guidance = tuple((name, _decode(files[name], f"{origin}/{name}")) for name in names)
    return Pack.of(meta, tuple(clauses), guidance)


def pack_languages(text: str, where: str) -> tuple[str, ...]:
    """pack.toml's ``languages`` (the default language first), () when it declares none (then English)."""
    try:
        languages = tomllib.loads(text).get("pack", {}).get("languages", [])
    except tomllib.TOMLDecodeError:
        return ()  # the manifest's own parse names the syntax error
    if (
        not isinstance(languages, list)
        or not all(isinstance(code, str) and LANGUAGE.match(code) for code in languages)
        or len(set(languages)) != len(languages)
    ):
        raise PackError(
            where,
            _line_of(text, "languages"),
            "languages must be a list of distinct two-letter ISO 639-1 codes, the default language first",
            'write e.g. languages = ["en", "de", "fr"]',
        )
    return tuple(languages)


def _guidance_names(files: dict[str, bytes], languages: tuple[str, ...], origin: str) -> list[str]:
    """The guidance files to keep with the version, sorted as the catalog returns them: GUIDANCE_FILES, the
    examples in each declared language, and pack.toml itself when it declares languages (the engine reads
    them from the stored version; a pack that declares none keeps its fingerprint)."""
    names = [name for name in files if name in GUIDANCE_FILES]
    for name in files:
        language = EXAMPLES_IN_LANGUAGE.match(name)
        if language is None:
            continue
        if language.group(1) not in languages:
            raise PackError(
                f"{origin}/{name}",
                None,
                f"examples in '{language.group(1)}', a language pack.toml does not declare",
                f'add "{language.group(1)}" to languages under [pack] in pack.toml, or remove the file',
            )
        names.append(name)
    return sorted([*names, "pack.toml"] if languages else names)


def check_clauses(clauses: list[Clause], limits: PackLimits) -> None:
    """Refuse a pack with more clauses, or a clause longer, than ``limits`` allow, naming the first one over."""
    if len(clauses) > limits.pack_max_clauses:
        first = clauses[limits.pack_max_clauses]
        raise limits.exceeded(
            first.file, first.line, "the pack has too many clauses", "pack_max_clauses", "split it into packs"
        )
    for clause in clauses:
        if len(clause.title) + len(clause.text) > limits.pack_max_clause_chars:
            raise limits.exceeded(
                clause.file,
                clause.line,
                f"clause '{clause.id}' is {len(clause.title) + len(clause.text):,} characters long",
                "pack_max_clause_chars",
                "split it into clauses of their own, each under a heading with its own id",
            )


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PackError(where, None, "not UTF-8 text", "save the file as UTF-8") from None


def _parse_manifest(text: str, where: str) -> Manifest:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))  # Python 3.11's error has no lineno attribute
        raise PackError(
            where, int(at.group(1)) if at else None, f"invalid TOML ({exc})", "correct the TOML syntax"
        ) from None
    table = doc.get("pack")
    if not isinstance(table, dict):
        raise PackError(where, None, "missing [pack] table", "start the file with [pack]")

    def field(name: str) -> str:
        value = table.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise PackError(
                where, _line_of(text, name), f"missing manifest field '{name}'", f'add {name} = "..." under [pack]'
            )
        return str(value)

    name = check_name(field("name"), where, _line_of(text, "name"))
    version = check_version(field("version"), where, _line_of(text, "version"))
    jurisdictions = table.get("jurisdictions", [])
    if not isinstance(jurisdictions, list) or not all(isinstance(j, str) and j for j in jurisdictions):
        raise PackError(
            where,
            _line_of(text, "jurisdictions"),
            "jurisdictions must be a list of region codes",
            'write e.g. jurisdictions = ["US", "UK", "EU"]',
        )
    start = _date(table, "effective_from", text, where)
    if start is None:
        raise PackError(
            where, None, "missing manifest field 'effective_from'", 'add effective_from = "2025-01-01" under [pack]'
        )
    return Manifest(
        name,
        version,
        field("title"),
        tuple(jurisdictions),
        start,
        _date(table, "effective_until", text, where),
    )


def check_name(name: str, where: str, line: int | None = None) -> str:
    """``name`` if it is a valid pack name (it becomes part of every citation), else a PackError at ``where``."""
    if not PACK_NAME.match(name):
        raise PackError(
            where, line, f"bad pack name '{name}'", "use lowercase letters, digits and hyphens, e.g. acme-retail"
        )
    return name


def check_version(version: str, where: str, line: int | None = None) -> str:
    """``version`` if it is a PEP 440 version (versions sort as such), else a PackError at ``where``."""
    try:
        Version(version)
    except InvalidVersion:
        raise PackError(
            where, line, f"bad version string '{version}'", "use a PEP 440 version such as 2025.1 or 1.2.0"
        ) from None
    return version


def renamed(pack: Pack, name: str | None, version: str | None) -> Pack:
    """``pack`` under the name and version an admin gave when loading it (``--name``, ``--version``), checked
    like pack.toml's: how two documents that would both import as ``policy@1.0`` are told apart."""
    return replace(
        pack,
        name=pack.name if name is None else check_name(name, "--name"),
        version=pack.version if version is None else check_version(version, "--version"),
    )


def _date(table: dict[str, object], name: str, text: str, where: str) -> date | None:
    value = table.get(name)
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PackError(
            where, _line_of(text, name), f"'{name}' = '{value}' is not a date", "write it as YYYY-MM-DD"
        ) from None


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(key):
            return number
    return None


def parse_clauses(text: str, where: str) -> list[Clause]:
    """Split one clause file into clauses; every heading below level 1 must carry ``{#id}``."""
    clauses: list[Clause] = []
    current: tuple[str, str, int, tuple[str, ...]] | None = None
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        clause_id, title, line, scopes = current
        content = "\n".join(body).strip()
        if not content:
            raise PackError(
                where, line, f"empty clause '{clause_id}'", "write the clause text under its heading, or remove it"
            )
        clauses.append(Clause(clause_id, title, content, where, line, scopes))

    for number, line in enumerate(text.splitlines(), start=1):
        heading = _HEADING.match(line)
        if heading is None or len(heading.group(1)) == 1:
            if current is not None:
                body.append(line)
            continue
        close()
        body = []
        title = heading.group(2)
        found = _ID_SUFFIX.search(title)
        if found is None:
            raise PackError(
                where,
                number,
                f"clause heading '{title}' has no id",
                "end the heading with a stable id, e.g. ## Refund window {#refunds.window}",
            )
        clause_id = found.group(1).strip()
        if not CLAUSE_ID.match(clause_id):
            raise PackError(
                where,
                number,
                f"bad clause id '{clause_id}'",
                "use lowercase letters, digits, '.', '-' and '_', e.g. refunds.window",
            )
        current = (clause_id, title[: found.start()].strip(), number, _scopes(found.group(2), where, number))
    close()
    return clauses


def _scopes(attributes: str, where: str, line: int) -> tuple[str, ...]:
    """Parse the heading attributes after the id; only ``jurisdictions=A,B`` is known."""
    scopes: tuple[str, ...] = ()
    for attribute in attributes.split():
        found = _ATTRIBUTE.match(attribute)
        if found is None or found.group(1) != "jurisdictions":
            raise PackError(
                where,
                line,
                f"unknown heading attribute '{attribute}'",
                "the only attribute is jurisdictions, e.g. {#warranty.uk jurisdictions=UK}",
            )
        scopes = tuple(s for s in found.group(2).strip('"').split(",") if s)
    return scopes
