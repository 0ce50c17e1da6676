"""Sections that fold to their title (a click on it, or the section's key), and where the rep left them folded.

A folded section keeps its place and its title line, so the draft editor below gets the room; the panel
remembers which sections were folded in a small JSON file in the data folder (``panel.json``), read when the
panel opens and written on every fold.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

log = logging.getLogger("copilot.ui")

PANEL_FILE = "panel.json"
"""In the data folder: the panel's own layout choices (which sections are folded)."""


class Collapsible(QWidget):
    """A bold title that folds and unfolds the body below it; ``header_layout`` takes extra title-line widgets."""

    collapsed_changed = Signal(str, bool)
    """(title, folded)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.setAccessibleName(title)
        self.toggle_button = QToolButton()
        self.toggle_button.setText(title)
        self.toggle_button.setCheckable(True)
        self.toggle_button.setChecked(True)
        self.toggle_button.setAutoRaise(True)
        self.toggle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle_button.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the cards; the keys fold it
        self.toggle_button.setStyleSheet("QToolButton { font-weight: bold; border: none; padding: 0; }")
        self.toggle_button.setAccessibleName(f"Fold or unfold {title}")
        self.toggle_button.toggled.connect(lambda shown: self.set_collapsed(not shown))
        self.header_layout = QHBoxLayout()
        self.header_layout.setContentsMargins(0, 0, 0, 0)
        self.header_layout.addWidget(self.toggle_button, 1, Qt.AlignmentFlag.AlignLeft)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(self.header_layout)
        outer.addWidget(self.body)

    @property
    def collapsed(self) -> bool:
        return self.body.isHidden()

    def set_collapsed(self, collapsed: bool) -> None:
        if collapsed == self.collapsed:
            return
        self.body.setHidden(collapsed)
        self.toggle_button.setChecked(not collapsed)
        self.toggle_button.setArrowType(Qt.ArrowType.RightArrow if collapsed else Qt.ArrowType.DownArrow)
        self.collapsed_changed.emit(self.title, collapsed)

    def toggle(self) -> None:
        self.set_collapsed(not self.collapsed)


class FoldedSections:
    """Which sections the rep folded, kept in ``path`` (None: for this run only, as screenshots and tests want)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self.folded: set[str] = set()
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.folded = {str(t) for t in data.get("folded", [])}
            except (OSError, ValueError, AttributeError) as exc:  # a damaged file only loses the folding
                log.warning("%s is unreadable (%s); every section starts unfolded", path, exc)

    def follow(self, sections: list[Collapsible]) -> None:
        """Fold the sections the rep left folded, and remember every fold from now on."""
        for section in sections:
            section.set_collapsed(section.title in self.folded)
            section.collapsed_changed.connect(self._changed)

    def _changed(self, title: str, folded: bool) -> None:
        (self.folded.add if folded else self.folded.discard)(title)
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"folded": sorted(self.folded)}), encoding="utf-8")
            temporary.replace(self._path)
        except OSError as exc:  # the panel works on; only the folding is not kept for the next start
            log.warning("could not save the folded sections to %s: %s", self._path, exc)
