"""One message's case: what more than one reasoning stage reads, computed once and handed to each stage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from copilot.conversation.language import customer_language_code, reading_languages
from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.facts import Facts, gather
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.signals import fold

_WORDS = re.compile(r"\w+")


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
        """Names, numbers, what the customer stated and system records known up to the message."""
        guidance = self.guidance
        return gather(self.conversation, self.seq, guidance.id_patterns, guidance.stated, guidance.languages)

    @cached_property
    def language(self) -> str | None:
        """The code of a language other than English the customer wrote in lately (None: English)."""
        return customer_language_code(self.turns)

    @property
    def customer_turn(self) -> Turn | None:
        """The customer's newest message up to the one judged."""
        return next((t for t in reversed(self.turns) if t.role == "customer"), None)

    def replied_after(self, seq: int) -> bool:
        """Whether the rep has written since message ``seq``: what was due then has been answered, one way or
        another, and a draft does not say it again."""
        return any(t.role == "rep" and t.seq > seq for t in self.turns)

    @cached_property
    def acknowledges(self) -> bool:
        """Whether the customer's newest message only thanks or agrees ("yes that's fine, thank you", "that's a
        relief"): an answer to the rep, with one of the pack's acknowledgement phrases, no question, no record id
        (a request about another order), and short (the pack's ``max_words``)."""
        turn = self.customer_turn
        said = self.guidance.acknowledgement
        if (
            turn is None
            or not any(t.role == "rep" and t.seq < turn.seq for t in self.turns)
            or "?" in turn.text
            or len(_WORDS.findall(turn.text)) > said.max_words
            or any(re.search(pattern, turn.text) for _, pattern in self.guidance.id_patterns)
        ):
            return False
        pattern = said.pattern(reading_languages(turn.text, self.guidance.languages))
        return pattern is not None and pattern.search(fold(turn.text)) is not None
