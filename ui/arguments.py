"""The arguments of a proposed action, filled in or corrected by the rep in a form made from the tool's JSON
schema; the action is proposed (and judged) again with them once the form has no problem left."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ui.sections.schema_form import SchemaForm

DESK_KEYS = ("idempotency_key", "dry_run")
"""Arguments the desk gives itself at run time (never the rep's to type)."""


def rep_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's schema without the arguments the desk gives itself."""
    properties = {k: v for k, v in dict(schema.get("properties", {})).items() if k not in DESK_KEYS}
    required = [k for k in schema.get("required", []) if k not in DESK_KEYS]
    return {**schema, "properties": properties, "required": required}


class ArgumentsDialog(QDialog):
    def __init__(
        self, title: str, schema: Mapping[str, Any], values: Mapping[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Arguments: {title}")
        self.setAccessibleName("Action arguments")
        self.resize(420, 560)
        self.form = SchemaForm(rep_schema(schema), {k: v for k, v in values.items() if k not in DESK_KEYS})
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #a33;")
        self.ok = QPushButton("Propose with these")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.accept)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        self.form.changed.connect(self._checked)
        self._checked()

    def _checked(self) -> None:
        problems = self.form.problems()
        self.problems.setText("\n".join(problems[:4]))
        self.ok.setEnabled(not problems)

    def values(self) -> dict[str, Any]:
        return self.form.values()
