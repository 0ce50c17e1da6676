"""Where each conversation was left: in memory, so switching back shows it as it was, and in the data
folder, so a restart does too.

Every event a conversation receives is appended to its own JSONL file under ``conversations/`` (the
format of docs/conversation-events.md, so a saved conversation also replays with ``copilot replay``), and
``conversations/open.json`` names the conversation open in the panel and the file it was played from.
A restart rebuilds the conversation from its file and analyses its newest message again; drafts, actions
and decisions are kept by conversation id in their own stores.

Appends are flushed to the operating system at once (an app crash loses nothing) but not forced to the
disk (a power cut may lose the newest few events): a message costs no disk wait on the UI thread.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from base.errors import EventError
from copilot.conversation.events import ConversationStarted, Event, event_record, read_events
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight

KEPT_IN_MEMORY = 32
"""Conversations whose state (with their last insight) stays in memory; older ones are read from disk."""
FOLDER = "conversations"
OPEN_FILE = "open.json"


@dataclass(frozen=True)
class Left:
    """A conversation as the rep left it."""

    conversation: Conversation
    newest: int
    """The seq of its newest message (-1 before the first)."""
    insight: Insight | None
    """The analysis of that message, when it was ready (never kept on disk: it is computed again)."""


@dataclass(frozen=True)
class Opened:
    """The conversation open in the panel when the app last ran."""

    id: str
    source: str
    """The event file it was played from (the demo player), or empty."""


class ConversationMemory:
    """Conversations by id; ``folder`` None keeps them in memory only (replay, eval)."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder / FOLDER if folder is not None else None
        self._left: OrderedDict[str, Left] = OrderedDict()
        self.errors: list[EventError] = []
        """Lines of saved conversations that could not be read back (skipped, the rest restored)."""

    def remember(self, left: Left) -> None:
        self._left[left.conversation.id] = left
        self._left.move_to_end(left.conversation.id)
        while len(self._left) > KEPT_IN_MEMORY:
            self._left.popitem(last=False)

    def recall(self, conversation_id: str) -> Left | None:
        """The conversation as it was left: from memory, else rebuilt from its saved events."""
        if (left := self._left.get(conversation_id)) is not None:
            return left
        path = self._file(conversation_id)
        if path is None or not path.exists():
            return None
        log = read_events(path)
        self.errors.extend(log.errors)
        opening = next((e for e in log.events if isinstance(e, ConversationStarted)), None)
        conversation = Conversation.start(opening or ConversationStarted(id=conversation_id))
        for event in log.events:
            conversation = conversation.apply(event)
        newest = max((t.seq for t in conversation.turns), default=-1)
        return Left(conversation, newest, None)

    def append(self, conversation_id: str, event: Event) -> None:
        """Save one event the conversation received."""
        path = self._file(conversation_id)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")

    def forget(self, conversation_id: str) -> None:
        """Drop the conversation everywhere (the demo's "start over")."""
        self._left.pop(conversation_id, None)
        path = self._file(conversation_id)
        if path is not None:
            path.unlink(missing_ok=True)

    def mark_open(self, conversation_id: str, source: str = "") -> None:
        if self._folder is None:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        temporary = self._folder / f"{OPEN_FILE}.tmp"
        temporary.write_text(json.dumps({"id": conversation_id, "source": source}), encoding="utf-8")
        temporary.replace(self._folder / OPEN_FILE)

    def opened(self) -> Opened | None:
        """The conversation open when the app last ran; None if none was, or the note is unreadable."""
        if self._folder is None:
            return None
        try:
            data = json.loads((self._folder / OPEN_FILE).read_text(encoding="utf-8"))
            return Opened(str(data["id"]), str(data.get("source", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _file(self, conversation_id: str) -> Path | None:
        """One file per conversation, named by a hash: ids come from outside and may hold any character."""
        if self._folder is None:
            return None
        return self._folder / f"{hashlib.sha256(conversation_id.encode()).hexdigest()[:24]}.jsonl"
