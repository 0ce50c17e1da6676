"""One message's case: what more than one reasoning stage reads, computed once and handed to each stage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.facts import Facts, gather
from copilot.reasoning.guidance import Guidance


@dataclass(frozen=True)
class Case:
    """The conversation as of one message, with the pack guidance in force and the facts known so far.

    Built once per analysis by the reasoner; escalation, intent, paths, the draft, its verification and
    the flags all read the same guidance and facts instead of each recomputing them. It holds nothing
    retrieval finds, so the stages that need no clause run while retrieval is still searching.
    """

    conversation: Conversation
    seq: int | None
    """The message judged; None means the whole conversation (the editor's text comes after all of it)."""
    packs: tuple[str, ...]
    """``name@version`` of the pack versions in force, highest priority first."""
    guidance: Guidance

    @property
    def jurisdiction(self) -> str:
        return self.conversation.jurisdiction

    @cached_property
    def turns(self) -> tuple[Turn, ...]:
        """The turns up to and including the message."""
        return self.conversation.turns if self.seq is None else self.conversation.turns_upto(self.seq)

    @cached_property
    def facts(self) -> Facts:
        """Names, numbers and system records known up to the message."""
        return gather(self.conversation, self.seq, self.guidance.id_patterns)
