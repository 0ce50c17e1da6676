"""Policy packs: the on-disk format (folder or .zip), its validation, and the citation form.

A pack is ``pack.toml`` with a ``[pack]`` table plus ``clauses/*.md``; each clause is a Markdown
heading of level 2 or deeper carrying a stable id (``## Refund window {#refunds.window}``) followed
by its text. Level-1 headings title a file and are not clauses. See docs/policy-packs.md.
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path, PurePosixPath

from packaging.version import InvalidVersion, Version

from base.errors import PackError

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_ID_SUFFIX = re.compile(r"\{#([^}\s]*)([^}]*)\}\s*$")
_ATTRIBUTE = re.compile(r"^([a-z_]+)=(\S+)$")
CLAUSE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
GUIDANCE_FILES = (
    "actions.toml",
    "escalation-examples.jsonl",
    "escalation.toml",
    "playbooks.toml",
    "rules.toml",
    "systems.toml",
)
"""Optional files beside pack.toml (sorted, as the catalog returns them): labelled customer messages the
escalation classifier learns from, the escalation taxonomy, intents with resolution paths, compliance rules,
the guardrails of each action and how the company's systems are looked up."""


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


def load_pack(path: Path) -> Pack:
    """Read and validate a pack folder or .zip; raise PackError naming file, line and fix."""
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    elif path.suffix.lower() == ".zip" and path.is_file():
        files = _read_zip(path)
    elif not path.exists():
        raise PackError(str(path), None, "no such file or folder", "give the path of a pack folder or .zip")
    else:
        raise PackError(
            str(path),
            None,
            "not a pack folder or .zip",
            "a pack is a folder holding pack.toml and clauses/*.md, or a .zip of one",
        )
    return parse_pack_files(files, str(path))


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackError(
            str(path), None, f"unreadable zip ({exc})", "re-create the archive from the pack folder"
        ) from None
    roots = {PurePosixPath(name).parts[0] for name in files}
    if "pack.toml" not in files and len(roots) == 1:
        # A zip of the folder itself: strip the single top-level directory.
        root = roots.pop()
        files = {name[len(root) + 1 :]: data for name, data in files.items()}
    return files


def parse_pack_files(files: dict[str, bytes], origin: str) -> Pack:
    """Validate a pack given as {relative posix path: bytes}."""
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
    guidance = tuple((name, _decode(files[name], f"{origin}/{name}")) for name in GUIDANCE_FILES if name in files)
    return Pack.of(meta, tuple(clauses), guidance)


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
