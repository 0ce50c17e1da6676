"""A form built from a tool's JSON schema, so a rep can check and complete the arguments of an action.

``SchemaForm(schema, values)`` shows one field per argument: text boxes (a taller one for long text),
numbers typed as text and converted on read (never clamped), a combo box per enum, a check box per
boolean, a group per nested object and, per array, rows with Add and Remove buttons (each row of an
array of objects is a sub-form). Local ``$ref`` (``#/$defs/...``), ``allOf`` (merged), ``const``,
nullable types (``"type": [X, "null"]`` or ``anyOf``/``oneOf`` of one schema and null) are understood;
whatever else a field's schema is (a union of several types, a map, a tuple, a recursive reference),
it gets a JSON text box, so every argument stays visible and editable.

Values the copilot filled in are shaded until the rep changes them; required fields carry a ``*``.
``values()`` is the arguments as JSON, empty optional fields left out; ``problems()`` is every way they
break the schema (jsonschema, Draft 2020-12, formats checked) plus text that is not a number, each
message led by the field's dotted path (``passengers.1.dob: ...``, indexes from 0 as in the JSON).
The same messages, without the path, show under the field they are about (a missing required value
only through its ``*``). ``changed`` fires on every edit, so a host can enable Approve only when
``problems()`` is empty.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from itertools import pairwise
from typing import Any

import jsonschema
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from referencing.exceptions import Unresolvable

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

REQUIRED = "required"
"""The message of a required field left empty (shown by the field's ``*``, not under it)."""
PREFILLED_COLOR = "#e3edfb"
"""Background of a field that still holds the value the copilot filled in."""
_PROBLEM_COLOR = "#a61b1b"
_LONG_TEXT = 200
"""Strings allowed to be longer than this get a multi-line box."""
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EXAMPLE = re.compile(r"(?:such as|e\.g\.|for example)[:,]?\s+(.+?)\.?\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_FORMAT_HINTS = {
    "date": "YYYY-MM-DD",
    "date-time": "YYYY-MM-DDThh:mm:ssZ",
    "time": "hh:mm:ss",
    "email": "name@example.com",
    "uri": "https://…",
}


class _Absent(Enum):
    """Nothing in a field: the argument is left out."""

    ABSENT = "absent"


ABSENT = _Absent.ABSENT


# --- Reading the schema -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """One node of the schema as the form needs it: which editor, and the schema with refs resolved."""

    kind: str
    """``text``, ``long_text``, ``number``, ``integer``, ``boolean``, ``choice``, ``object``, ``array`` or
    ``json`` (anything else, edited as JSON text)."""
    schema: Mapping[str, Any]
    nullable: bool = False
    choices: tuple[Any, ...] = ()
    trail: frozenset[str] = frozenset()
    """The refs followed to reach this node: following one of them again would never end."""

    @property
    def description(self) -> str:
        text = self.schema.get("description")
        return text if isinstance(text, str) else ""

    @property
    def has_default(self) -> bool:
        """True when the schema names a default other than null (the server's value for an empty field)."""
        return self.schema.get("default") is not None


def _resolve(schema: Any, root: Mapping[str, Any], trail: frozenset[str]) -> _Spec:
    """The editor kind for ``schema`` (a node inside ``root``)."""
    if not isinstance(schema, Mapping):
        return _Spec("json", {}, trail=trail)
    while "$ref" in schema:
        ref = schema["$ref"]
        target = _local(root, ref) if isinstance(ref, str) and ref not in trail else None
        if target is None:
            return _Spec("json", schema, trail=trail)
        trail = trail | {ref}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if isinstance(schema.get("allOf"), list):
        return _resolve(_merged(schema, root, trail), root, trail)
    for union in ("anyOf", "oneOf"):
        branches = schema.get(union)
        if isinstance(branches, list):
            others = [b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")]
            if len(others) != 1:
                return _Spec("json", schema, trail=trail)
            inner = _resolve(others[0], root, trail)
            outer = {k: v for k, v in schema.items() if k != union}
            nullable = inner.nullable or len(others) < len(branches)
            return _yes_no(replace(inner, schema={**inner.schema, **outer}, nullable=nullable))
    kind = schema.get("type")
    nullable = False
    if isinstance(kind, list):
        nullable = "null" in kind
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else "json"
    choices: list[Any] | None = None
    if "const" in schema:
        choices = [schema["const"]]
    elif isinstance(schema.get("enum"), list):
        choices = list(schema["enum"])
    if choices is not None:
        nullable = nullable or None in choices
        return _Spec("choice", schema, nullable, tuple(c for c in choices if c is not None), trail)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "json"
    if kind == "string":
        limit = schema.get("maxLength")
        kind = "long_text" if isinstance(limit, int) and limit > _LONG_TEXT else "text"
    elif kind == "object":
        kind = "object" if schema.get("properties") else "json"
    elif kind == "array":
        kind = "array" if isinstance(schema.get("items", {}), Mapping) else "json"
    elif kind not in ("number", "integer", "boolean"):
        kind = "json"
    return _yes_no(_Spec(kind, schema, nullable, (), trail))


def _yes_no(spec: _Spec) -> _Spec:
    """A boolean that may also be null becomes a Yes/No choice: a check box cannot show "not set"."""
    return replace(spec, kind="choice", choices=(True, False)) if spec.kind == "boolean" and spec.nullable else spec


def _local(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """The schema a local reference (``#/$defs/Passenger``) points at, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node if isinstance(node, Mapping) else None


def _merged(schema: Mapping[str, Any], root: Mapping[str, Any], trail: frozenset[str]) -> dict[str, Any]:
    """``allOf`` folded into one schema: properties and required lists joined, otherwise the first says."""
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        resolved = _resolve(part, root, trail).schema
        for key, value in resolved.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _fits(spec: _Spec, value: Any) -> bool:
    """True when the editor of ``spec`` can show ``value`` as it is (else the field is JSON text)."""
    if value is ABSENT or spec.kind in ("choice", "json"):
        return True
    if value is None:
        return spec.nullable
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "text": isinstance(value, str),
        "long_text": isinstance(value, str),
        "number": (number and math.isfinite(value)) or isinstance(value, str),
        "integer": (number and float(value).is_integer()) or isinstance(value, str),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[spec.kind]


# --- Words the rep reads ------------------------------------------------------------------------


def humanise(name: str) -> str:
    """A property name as a label: ``payment_id`` → "Payment id", ``dateOfBirth`` → "Date of birth",
    ``line1`` → "Line 1"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[a-zA-Z])(?=[0-9])", " ", name)
    words = [w if len(w) > 1 and w.isupper() else w.lower() for w in re.split(r"[_\-\s]+", spaced) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


def choice_label(value: Any) -> str:
    """An enum value as the rep reads it: ``round_trip`` → "Round trip"; codes such as ``US`` kept."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return humanise(value) if re.fullmatch(r"[a-z][a-z0-9_]*", value) else value
    return json.dumps(value, ensure_ascii=False)


def _singular(label: str) -> str:
    """The noun for one row of an array: "Passengers" → "Passenger", "Addresses" → "Address"."""
    head, _, last = label.rpartition(" ")
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return f"{head} {last}" if head else last or "Item"


def _caption(label: str, required: bool) -> str:
    return f"{label} *" if required else label


def _hint(spec: _Spec) -> str:
    """Placeholder text: the default, else the description's first example, else the format, else the description."""
    if spec.has_default:
        return f"Default: {choice_label(spec.schema['default'])}"
    examples = spec.schema.get("examples")
    if isinstance(examples, list) and examples:
        return f"e.g. {choice_label(examples[0])}"
    found = _EXAMPLE.search(spec.description)
    if found:
        quoted = _QUOTED.match(found.group(1))
        return f"e.g. {(quoted.group(1) or quoted.group(2)) if quoted else found.group(1)}"
    return _FORMAT_HINTS.get(str(spec.schema.get("format", "")), spec.description.rstrip("."))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and bool(a == b)


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "arguments"


# --- Fields -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """What every field reports to the form it is in."""

    root: Mapping[str, Any]
    edited: Callable[[], None]
    restructured: Callable[[QWidget | None], None]
    """Rows were added or removed: the tab order is redone and the given widget focused."""


class _Field:
    """One schema node's editor: its JSON value, the widgets it puts in the form, where its problems show."""

    widget: QWidget
    """What goes in the parent's layout."""

    def __init__(self, spec: _Spec, required: bool, original: Any, form: _Form) -> None:
        self.spec = spec
        self.required = required
        self.starred = required
        """Whether the caption carries the ``*`` (not on an array's rows: the row itself is not a field to fill)."""
        self.original = original
        """The value the copilot filled in, or ABSENT."""
        self.form = form
        self._problem = QLabel()
        self._problem.setWordWrap(True)
        self._problem.setStyleSheet(f"color: {_PROBLEM_COLOR};")
        self._problem.hide()

    def caption(self) -> QLabel | None:
        """The label left of (or above) the widget; None when the widget carries its own title."""
        return None

    def read(self, path: Path, problems: list[Problem]) -> Any:
        """The JSON value, or ABSENT; text that cannot be converted adds a problem."""
        raise NotImplementedError

    def focusables(self) -> list[QWidget]:
        """The widgets Tab visits, in order."""
        raise NotImplementedError

    def target(self) -> QWidget:
        """The widget that stands for the field (focused to show it to the rep)."""
        raise NotImplementedError

    def rename(self, label: str) -> None:
        """Retitle the field (an array's rows are titled by position)."""

    def child(self, key: str | int) -> _Field | None:
        return None

    def walk(self, path: Path) -> Iterator[tuple[Path, _Field]]:
        yield path, self

    def show_problems(self, messages: list[str]) -> None:
        self._problem.setText("\n".join(messages))
        self._problem.setVisible(bool(messages))

    def _empty(self) -> Any:
        """The value of a field left empty: what the copilot gave if that was empty too, null where
        required and allowed, else nothing."""
        if self.original is None or self.original in ("", [], {}):
            return self.original
        if self.required:
            return None if self.spec.nullable else self._required_empty()
        return ABSENT

    def _required_empty(self) -> Any:
        return ABSENT


def _build(spec: _Spec, name: str, required: bool, value: Any, form: _Form) -> _Field:
    title = spec.schema.get("title")
    label = title if isinstance(title, str) and title else humanise(name)
    if not _fits(spec, value):
        spec = replace(spec, kind="json")
    if spec.kind == "object":
        return _ObjectField(spec, label, required, value, form)
    if spec.kind == "array":
        return _ArrayField(spec, label, required, value, form)
    if spec.kind == "boolean":
        return _BoolField(spec, label, required, value, form)
    if spec.kind == "choice":
        return _ChoiceField(spec, label, required, value, form)
    return _TextField(spec, label, required, value, form)


class _Leaf(_Field):
    """A field with one editor, a caption with the editor as its buddy, and shading while prefilled."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form, editor: QWidget) -> None:
        super().__init__(spec, required, original, form)
        self.editor = editor
        self._label = QLabel(_caption(label, required))
        self._label.setWordWrap(True)
        self._label.setBuddy(editor)
        editor.setAccessibleName(label)
        if spec.description:
            for widget in (self._label, editor):
                widget.setToolTip(spec.description)
            editor.setAccessibleDescription(spec.description)
        self._plain = QPalette(editor.palette())
        self._shaded = QPalette(self._plain)
        for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Button):
            self._shaded.setColor(role, QColor(PREFILLED_COLOR))
        self.widget = QWidget()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self._problem)

    def caption(self) -> QLabel | None:
        return self._label

    def focusables(self) -> list[QWidget]:
        return [self.editor]

    def target(self) -> QWidget:
        return self.editor

    def rename(self, label: str) -> None:
        super().rename(label)
        self._label.setText(_caption(label, self.starred))
        self.editor.setAccessibleName(label)

    def _edited(self) -> None:
        self._shade()
        self.form.edited()

    def _shade(self) -> None:
        """Shaded while the field holds what the copilot filled in."""
        prefilled = self.original not in (ABSENT, None) and self._unchanged()
        self.editor.setPalette(self._shaded if prefilled else self._plain)

    def _unchanged(self) -> bool:
        return _same(self.read((), []), self.original)


class _TextField(_Leaf):
    """Text, a number or JSON typed into a box; converted when read."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form) -> None:
        editor: QLineEdit | QPlainTextEdit
        if spec.kind in ("long_text", "json"):
            editor = QPlainTextEdit()
            editor.setTabChangesFocus(True)
            editor.setFixedHeight(editor.fontMetrics().lineSpacing() * 4 + 10)
        else:
            editor = QLineEdit()
        self.box = editor
        super().__init__(spec, label, required, original, form, editor)
        editor.setPlaceholderText("JSON" if spec.kind == "json" else _hint(spec))
        if original is not ABSENT:
            self._set_text(self._render(original))
        editor.textChanged.connect(self._edited)
        self._shade()

    def _unchanged(self) -> bool:
        return self.text() == self._render(self.original)

    def text(self) -> str:
        return self.box.text() if isinstance(self.box, QLineEdit) else self.box.toPlainText()

    def _set_text(self, text: str) -> None:
        if isinstance(self.box, QLineEdit):
            self.box.setText(text)
        else:
            self.box.setPlainText(text)

    def _render(self, value: Any) -> str:
        if self.spec.kind == "json":
            return json.dumps(value, ensure_ascii=False)
        if value is None:
            return ""
        if isinstance(value, float):
            return str(int(value)) if self.spec.kind == "integer" else repr(value)
        return str(value)

    def read(self, path: Path, problems: list[Problem]) -> Any:
        text = self.text()
        if not text.strip():
            return self._empty()
        kind = self.spec.kind
        if kind in ("text", "long_text"):
            return text
        text = text.strip()
        if kind == "json":
            try:
                return json.loads(text)
            except ValueError as exc:
                problems.append((path, f"not valid JSON ({exc})"))
                return ABSENT
        if _INTEGER.fullmatch(text):
            return int(text)
        number = float(text) if _NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(number):
            problems.append((path, f"{text!r} is not a number"))
            return ABSENT
        if kind == "integer":
            problems.append((path, f"{text!r} is not a whole number"))
            return ABSENT
        return number


class _ChoiceField(_Leaf):
    """An enum as a combo box; the first entry is "not chosen"."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form) -> None:
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        super().__init__(spec, label, required, original, form, self.combo)
        self.choices = list(spec.choices)
        if required:
            self.combo.addItem("Choose…")
        else:
            self.combo.addItem(_hint(spec) if spec.has_default else "Not set")
        self.combo.addItems([choice_label(c) for c in self.choices])
        if original not in (ABSENT, None):
            index = next((i for i, c in enumerate(self.choices) if _same(c, original)), None)
            if index is None:
                self.choices.append(original)
                self.combo.addItem(f"{choice_label(original)} (not one of the choices)")
                index = len(self.choices) - 1
            self.combo.setCurrentIndex(index + 1)
        self.combo.currentIndexChanged.connect(self._edited)
        self._shade()

    def read(self, path: Path, problems: list[Problem]) -> Any:
        index = self.combo.currentIndex()
        return self.choices[index - 1] if index > 0 else self._empty()


class _BoolField(_Leaf):
    """A check box titled with the field's label; left out until ticked or unticked unless required or prefilled."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form) -> None:
        self.box = QCheckBox(_caption(label, required))
        super().__init__(spec, label, required, original, form, self.box)
        start = original if isinstance(original, bool) else spec.schema.get("default") is True
        self.box.setChecked(start)
        self._touched = False
        self.box.toggled.connect(self._on_toggled)
        self._shade()

    def caption(self) -> QLabel | None:
        return None

    def rename(self, label: str) -> None:
        super().rename(label)
        self.box.setText(_caption(label, self.starred))

    @Slot(bool)
    def _on_toggled(self, _checked: bool) -> None:
        self._touched = True
        self._edited()

    def read(self, path: Path, problems: list[Problem]) -> Any:
        if self._touched or self.required:
            return self.box.isChecked()
        return self.original


class _ObjectField(_Field):
    """A nested object as a group of fields (the top level: the same, without the group's frame)."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form, top: bool = False) -> None:
        super().__init__(spec, required, original, form)
        self.box: QWidget = QWidget() if top else QGroupBox(_caption(label, required))
        if spec.description:
            self.box.setToolTip(spec.description)
        self.box.setAccessibleName(label)
        self.rows = QFormLayout()
        self.rows.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.rows.setVerticalSpacing(6)
        self._footer = QHBoxLayout()
        self._footer.addStretch(1)
        self._footer_widgets: list[QWidget] = []
        layout = QVBoxLayout(self.box)
        if top:
            layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.rows)
        layout.addWidget(self._problem)
        layout.addLayout(self._footer)
        self.widget = self.box
        self.fields: dict[str, _Field] = {}
        given = original if isinstance(original, dict) else {}
        properties = spec.schema.get("properties", {})
        needed = set(spec.schema.get("required", []))
        for name, schema in properties.items():
            self._add(name, _resolve(schema, form.root, spec.trail), name in needed, given.get(name, ABSENT))
        others = spec.schema.get("additionalProperties", True)
        other = _resolve(others if isinstance(others, Mapping) else {}, form.root, spec.trail)
        for name, value in given.items():
            if name not in properties:
                self._add(name, other, False, value)
        if top and not self.fields:
            self.rows.addRow(QLabel("Nothing to fill in."))

    def _add(self, name: str, spec: _Spec, required: bool, value: Any) -> None:
        field = _build(spec, name, required, value, self.form)
        self.fields[name] = field
        caption = field.caption()
        if caption is None:
            self.rows.addRow(field.widget)
        else:
            self.rows.addRow(caption, field.widget)

    def add_footer(self, widget: QWidget) -> None:
        self._footer.addWidget(widget)
        self._footer_widgets.append(widget)

    def read(self, path: Path, problems: list[Problem]) -> Any:
        out: dict[str, Any] = {}
        for name, field in self.fields.items():
            value = field.read((*path, name), problems)
            if value is not ABSENT:
                out[name] = value
        return out if out else self._empty()

    def _required_empty(self) -> Any:
        return {}

    def focusables(self) -> list[QWidget]:
        return [w for f in self.fields.values() for w in f.focusables()] + self._footer_widgets

    def target(self) -> QWidget:
        return self.box

    def rename(self, label: str) -> None:
        super().rename(label)
        self.box.setAccessibleName(label)
        if isinstance(self.box, QGroupBox):
            self.box.setTitle(_caption(label, self.starred))

    def child(self, key: str | int) -> _Field | None:
        return self.fields.get(key) if isinstance(key, str) else None

    def walk(self, path: Path) -> Iterator[tuple[Path, _Field]]:
        yield path, self
        for name, field in self.fields.items():
            yield from field.walk((*path, name))


@dataclass(frozen=True)
class _Row:
    field: _Field
    frame: QWidget
    remove: QPushButton


class _ArrayField(_Field):
    """An array as rows, each with a Remove button, and an Add button below them."""

    def __init__(self, spec: _Spec, label: str, required: bool, original: Any, form: _Form) -> None:
        super().__init__(spec, required, original, form)
        self.items = _resolve(spec.schema.get("items", {}), form.root, spec.trail)
        title = self.items.schema.get("title")
        self.noun = title if isinstance(title, str) and title else _singular(label)
        self.box = QGroupBox(_caption(label, required))
        self.box.setAccessibleName(label)
        if spec.description:
            self.box.setToolTip(spec.description)
        self._lines = QVBoxLayout()
        self.add = QPushButton(f"Add {self.noun.lower()}")
        self.add.clicked.connect(self._on_add)
        layout = QVBoxLayout(self.box)
        layout.addLayout(self._lines)
        layout.addWidget(self._problem)
        layout.addWidget(self.add, 0, Qt.AlignmentFlag.AlignLeft)
        self.widget = self.box
        self.lines: list[_Row] = []
        if isinstance(original, list):
            for value in original:
                self._append(value)
        elif original is ABSENT:
            least = spec.schema.get("minItems", 0)
            for _ in range(max(least if isinstance(least, int) else 0, 1 if required else 0)):
                self._append(ABSENT)

    def _append(self, value: Any) -> _Row:
        number = len(self.lines) + 1
        field = _build(self.items, f"{self.noun} {number}", True, value, self.form)
        field.starred = False
        remove = QPushButton("Remove")
        frame: QWidget
        if isinstance(field, _ObjectField):
            field.add_footer(remove)
            frame = field.widget
        else:
            frame = QWidget()
            line = QHBoxLayout(frame)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(field.widget, 1)
            line.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)
        row = _Row(field, frame, remove)
        remove.clicked.connect(lambda: self._remove(row))
        self._lines.addWidget(frame)
        self.lines.append(row)
        self._number()
        return row

    @Slot()
    def _on_add(self) -> None:
        row = self._append(ABSENT)
        self.form.restructured(row.field.focusables()[0])

    def _remove(self, row: _Row) -> None:
        at = self.lines.index(row)
        self.lines.pop(at)
        after = self.lines[at] if at < len(self.lines) else self.lines[at - 1] if at else None
        self._lines.removeWidget(row.frame)
        row.frame.setParent(None)
        row.frame.deleteLater()
        self._number()
        self.form.restructured(after.field.focusables()[0] if after else self.add)

    def _number(self) -> None:
        """Rows are titled by position ("Passenger 2"), so removing one renumbers those after it."""
        for number, row in enumerate(self.lines, 1):
            row.field.rename(f"{self.noun} {number}")
            row.remove.setAccessibleName(f"Remove {self.noun.lower()} {number}")
        limit = self.spec.schema.get("maxItems")
        self.add.setEnabled(not isinstance(limit, int) or len(self.lines) < limit)

    def read(self, path: Path, problems: list[Problem]) -> Any:
        values = []
        for index, row in enumerate(self.lines):
            value = row.field.read((*path, index), problems)
            if value is ABSENT:
                problems.append(((*path, index), "empty: fill it in or remove it"))
                value = None
            values.append(value)
        return values if values else self._empty()

    def _required_empty(self) -> Any:
        return []

    def focusables(self) -> list[QWidget]:
        widgets: list[QWidget] = []
        for row in self.lines:
            widgets += row.field.focusables()
            if not isinstance(row.field, _ObjectField):
                widgets.append(row.remove)
        return [*widgets, self.add]

    def target(self) -> QWidget:
        return self.box

    def rename(self, label: str) -> None:
        super().rename(label)
        self.box.setAccessibleName(label)
        self.box.setTitle(_caption(label, self.starred))

    def child(self, key: str | int) -> _Field | None:
        return self.lines[key].field if isinstance(key, int) and 0 <= key < len(self.lines) else None

    def walk(self, path: Path) -> Iterator[tuple[Path, _Field]]:
        yield path, self
        for index, row in enumerate(self.lines):
            yield from row.field.walk((*path, index))


# --- The form -----------------------------------------------------------------------------------


class SchemaForm(QWidget):
    """The arguments of one tool call as a form: prefilled by the copilot, completed and checked by the rep."""

    changed = Signal()
    """A field was edited or a row added or removed: ``values()`` and ``problems()`` may differ."""

    def __init__(
        self, schema: Mapping[str, Any], values: Mapping[str, Any] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._schema = dict(schema)
        try:
            jsonschema.Draft202012Validator.check_schema(self._schema)
            self._broken = ""
        except jsonschema.exceptions.SchemaError as exc:
            self._broken = f"the tool's argument schema is not valid ({exc.message}); ask the system's owner"
        self._validator = jsonschema.Draft202012Validator(
            self._schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        self._building = True
        form = _Form(self._schema, self._on_edited, self._on_restructured)
        spec = _resolve(self._schema, self._schema, frozenset())
        given = dict(values) if values is not None else ABSENT
        self._root = _ObjectField(spec, "Arguments", True, given, form, top=True)
        legend = QLabel(
            (
                f"<span style='background:{PREFILLED_COLOR}'>&nbsp;Shaded&nbsp;</span> filled in by the copilot · "
                if values
                else ""
            )
            + "* required"
        )
        legend.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(legend)
        layout.addWidget(self._root.widget)
        self._building = False
        self._chain()
        self._show_problems()

    def values(self) -> dict[str, Any]:
        """The arguments as JSON values; empty optional fields are left out."""
        value = self._root.read((), [])
        return value if isinstance(value, dict) else {}

    def problems(self) -> list[str]:
        """Every way the arguments are not yet right, each led by its field's dotted path; empty when they are."""
        return [f"{_dotted(path)}: {message}" for path, message in self._problems()]

    def editor(self, path: str) -> QWidget | None:
        """The widget of the field at a dotted path (``passengers.1.dob``): the input of a value, the group
        of an object or array; None when there is no such field."""
        field: _Field | None = self._root
        for part in path.split(".") if path else []:
            field = field.child(int(part) if part.isdigit() else part) if field else None
        return field.target() if field else None

    def _problems(self) -> list[Problem]:
        found: list[Problem] = []
        value = self._root.read((), found)
        if self._broken:
            return [((), self._broken)]
        unreadable = [path for path, _ in found]
        try:
            errors = list(self._validator.iter_errors(value))
        except Unresolvable as exc:
            return [*found, ((), f"the tool's argument schema refers to something it does not hold ({exc})")]
        for error in errors:
            for path, message in _described(jsonschema.exceptions.best_match([error])):
                if not any(path[: len(p)] == p for p in unreadable):
                    found.append((path, message))
        order = {path: index for index, (path, _) in enumerate(self._root.walk(()))}
        return sorted(found, key=lambda problem: _position(problem[0], order))

    def _show_problems(self) -> None:
        shown: dict[int, list[str]] = {}
        fields = {id(f): f for _, f in self._root.walk(())}
        for path, message in self._problems():
            if message != REQUIRED:
                shown.setdefault(id(self._nearest(path)), []).append(message)
        for key, field in fields.items():
            field.show_problems(shown.get(key, []))

    def _nearest(self, path: Path) -> _Field:
        """The deepest field on ``path``."""
        field: _Field = self._root
        for key in path:
            inner = field.child(key)
            if inner is None:
                break
            field = inner
        return field

    def _on_edited(self) -> None:
        if self._building:
            return
        self._show_problems()
        self.changed.emit()

    def _on_restructured(self, focus: QWidget | None) -> None:
        if self._building:
            return
        self._chain()
        if focus is not None:
            focus.setFocus()
        self._on_edited()

    def _chain(self) -> None:
        """Tab follows the form top to bottom, rows added later included."""
        for before, after in pairwise(self._root.focusables()):
            QWidget.setTabOrder(before, after)


def _described(error: Any) -> list[Problem]:
    """Where a jsonschema error is and what it says; a missing or unexpected property is named in the path."""
    path: Path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance and error.message.startswith(repr(p))]
        if missing:
            return [((*path, missing[0]), REQUIRED)]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = schema.get("properties", {})
        extra = [name for name in error.instance if name not in known]
        if extra and not schema.get("patternProperties"):
            return [((*path, name), "not an argument this tool takes") for name in extra]
    if error.validator == "pattern":
        description = schema.get("description")
        expected = f" ({description.rstrip('.')})" if isinstance(description, str) and description else ""
        return [(path, f"{error.instance!r} is not in the expected form{expected}")]
    return [(path, str(error.message))]


def _position(path: Path, order: Mapping[Path, int]) -> int:
    """Where the field a problem is about comes in the form (its nearest shown ancestor's place)."""
    for length in range(len(path), -1, -1):
        if path[:length] in order:
            return order[path[:length]]
    return 0
