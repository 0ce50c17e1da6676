"""Compliance rules as code: each rule reads the newest rep text (a sent turn or a draft) with the
earlier turns as context and returns a flag with its evidence and the clause it enforces.

The checks are the engine's; which clause each one enforces is the pack's (``rules.toml`` [checks],
docs/policy-packs.md). A check the packs in force name no clause for does not run, except the few in
``CHECKS`` marked ``always``: those guard against harm whatever the company's policy says.

Nothing here asks a model for a verdict; the one model-assisted step is finding which policy
clauses a number should be checked against (``claims.py``), and the check itself is arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.signals import extract_entities, fold, found, rx, sentences
from retrieval.jurisdiction import covers

FLAG_CATEGORIES = (
    "ai_disclosure_missing",
    "forbidden_commitment",
    "sensitive_data",
    "unverified_claim",
    "regulated_action",
    "identity_not_verified",
)


@dataclass(frozen=True)
class Check:
    """A built-in check, named in a pack's ``rules.toml`` [checks] table by ``name``."""

    name: str
    category: str
    watches: str
    """What it flags, in a few words (the regulated actions' flag message starts with it)."""
    always: bool = False
    """It runs even when no pack in force names its clause (and then cites none)."""


CHECKS: tuple[Check, ...] = (
    Check(
        "ai_disclosure",
        "ai_disclosure_missing",
        "A reply drafted with AI in a region of [disclosure], before the customer was told",
        always=True,
    ),
    Check("guarantees", "forbidden_commitment", "Promised outcomes, and legal, medical or financial advice"),
    Check(
        "secrets",
        "sensitive_data",
        "Full card, account or id numbers in rep text, asking for secrets, a customer posting a card number",
        always=True,
    ),
    Check("unverified_figures", "unverified_claim", "A figure or date nothing cited or known backs", always=True),
    Check("identity_before_change", "identity_not_verified", "Changing account details before identity is confirmed"),
    Check("account_owner_change", "regulated_action", "Changing the account owner"),
    Check("balance_waiver", "regulated_action", "Waiving a balance"),
    Check("chargeback_override", "regulated_action", "Overriding a chargeback"),
    Check("security_block_override", "regulated_action", "Overriding a fraud or security block"),
    Check("credit_marker_removal", "regulated_action", "Removing a credit or collections marker"),
    Check("deceased_account_closure", "regulated_action", "Closing a deceased customer's account without documents"),
    Check("refund_during_chargeback", "regulated_action", "A refund while a chargeback is open"),
)
"""Every built-in check. ``always`` marks the three that hold whatever the company's policy: disclosure of AI
help where [disclosure] says the law requires it, keeping card data and passwords out of chat (the card
schemes' PCI DSS forbids it), and figures nothing backs (the draft's own promise to the rep)."""
_CHECK = {c.name: c for c in CHECKS}


@dataclass(frozen=True)
class Flag:
    """A compliance risk in what the rep is about to say (or said)."""

    rule: str
    category: str
    message: str
    """What the rep should know or do, in plain words."""
    evidence: str
    clause: str = ""
    """The clause id the rule enforces in the packs in force, empty when none names one."""
    severity: str = "warning"


@dataclass(frozen=True)
class Enforced:
    """What a pack says about one built-in check: the clause it enforces, and its own message, if any."""

    clause: str
    message: str = ""
    """Replaces the check's message (a company's own words: how it verifies identity, say)."""


@dataclass(frozen=True)
class Checks:
    """The built-in checks as the packs in force configure them: check name → what the pack says."""

    enforced: Mapping[str, Enforced] = field(default_factory=dict)

    def runs(self, name: str) -> bool:
        return name in self.enforced or _CHECK[name].always

    def flag(self, name: str, rule: str, message: str, evidence: str, severity: str = "warning") -> Flag:
        """A flag of check ``name``, citing the pack's clause and in the pack's words where it has them."""
        said = self.enforced.get(name)
        clause, own = (said.clause, said.message) if said else ("", "")
        return Flag(rule, _CHECK[name].category, own or message, evidence, clause, severity)


@dataclass(frozen=True)
class Draft:
    """The rep text being judged and the conversation before it."""

    text: str
    context: tuple[Turn, ...]
    jurisdiction: str
    ai_drafted: bool = False
    disclosure_required: tuple[str, ...] = ("US-CA", "EU")
    """Regions where customers must be told AI is involved (the pack's ``rules.toml`` [disclosure])."""
    disclosure_lines: tuple[str, ...] = ()
    """The pack's own disclosure line in each of its languages: saying one of them tells the customer too."""

    @classmethod
    def last_rep_turn(cls, conversation: Conversation, ai_drafted: bool = False) -> Draft | None:
        reps = [t for t in conversation.turns if t.role == "rep"]
        if not reps:
            return None
        last = reps[-1]
        return cls(
            last.text, tuple(t for t in conversation.turns if t.seq < last.seq), conversation.jurisdiction, ai_drafted
        )

    def earlier(self, role: str) -> list[str]:
        return [t.text for t in self.context if t.role == role]


_DISCLOSED = rx(
    r"\bAI\b.{0,40}\b(?:assist|draft|help|generat|tool|writ)",
    r"\b(?:assist|draft|help|generat)\w*\b.{0,30}\bAI\b",
    r"\bartificial intelligence\b",
    r"\bautomated (?:assistant|drafting)\b",
    r"\bAI[- ]assisted\b",
)


def disclosed(rep_texts: list[str], lines: tuple[str, ...] = ()) -> bool:
    """Whether the customer was told AI helps with the replies in any of these messages: in English words, or
    with one of the pack's disclosure ``lines`` (in any of its languages)."""
    said = [fold(line) for line in lines]
    return any(found(_DISCLOSED, t) or any(line in fold(t) for line in said) for t in rep_texts)


def ai_disclosure(draft: Draft, checks: Checks) -> list[Flag]:
    if not draft.ai_drafted or not covers(draft.disclosure_required, draft.jurisdiction) or not draft.jurisdiction:
        return []
    if disclosed([*draft.earlier("rep"), draft.text], draft.disclosure_lines):
        return []
    return [
        checks.flag(
            "ai_disclosure",
            "ai-disclosure",
            "This reply was drafted with AI and the customer has not been told yet: add the disclosure line.",
            draft.jurisdiction,
        )
    ]


_PROMISE = rx(
    r"\bI (?:can )?(?:personally )?(?:guarantee|promise)\b",
    r"(?<!legal )(?<!statutory )\bguaranteed?\b(?! (?:by|under) (?:law|the)| of conformity)",
    r"\b100\s?%\s+(?:sure|certain|guaranteed)",
    r"\b(?:will|'ll) definitely\b",
    r"\bdefinitely (?:will|be|get|arrive|refund)\b",
    r"\bwill never happen again\b",
    r"\bnever happen again\b",
    r"\bfor sure\b",
    r"\bno matter what\b",
    r"\bwithout (?:any )?(?:doubt|fail)\b",
    r"\bI assure you\b.{0,60}\b(?:will|arrive|refund)\b",
    r"\bwill (?:arrive|be delivered|be there) (?:by |on )?(?:tomorrow|today|tonight|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)\b",
    r"\byou have my word\b",
    r"\bconsider it done\b",
    r"\bI'?m (?:certain|positive) (?:that )?\w+\b.{0,40}\b(?:will|won'?t)\b",
    r"\byou won'?t have any (?:more )?(?:problems|issues)\b",
    r"\byou'?ll never have (?:this|that|any) (?:issue|problem)\b",
    r"\bwill 100\s?%",
    r"\b(?:I can )?assure you\b.{0,60}\b(?:will|'ll|before|by)\b",
    r"\bI'?ll make (?:sure|certain) (?:that )?you (?:get|receive|are refunded)\b",
    r"\bno matter (?:how long|when)\b",
    r"\byou (?:won'?t ever|will never|'ll never) (?:be charged|have to|see|get|need)\b",
    r"\bas good as (?:approved|done|yours|guaranteed|sorted)\b",
    r"\bI'?ll make sure of it\b",
    r"\bfull stop\b",
    r"\byou(?:'ll| will) never\b(?! (?:need to|have to) (?:share|send|give))",
    r"\bwill never be (?:exposed|restricted|hacked|charged|affected|lost|blocked)\b",
    r"\bcan'?t be hacked\b",
    r"\bthat'?s a promise\b",
    r"\b(?:completely|totally|absolutely) sure\b",
    r"\bno questions asked\b",
    r"\bregardless of (?:the )?(?:condition|outcome|what)\b",
)
_PROMISE_GUARD = rx(
    r"\b(?:can'?t|cannot|can not|unable to|not able to|won'?t|don'?t|do not)\s+(?:\w+\s+)?(?:guarantee|promise)",
    r"\bno guarantee\b",
    r"\bnot guaranteed\b",
)
_ADVICE = rx(
    r"\byou should (?:sue|take (?:us|them|him|her|it) to court|file a (?:lawsuit|claim)|get a lawyer|invest|"
    r"buy (?:stocks?|shares|crypto|bitcoin)|"
    r"take (?:a|an|this|these|the) (?:\w+ )?(?:pill|tablet|medication|medicine|painkiller|dose|supplement)|"
    r"stop taking|increase your dose)\b",
    r"\blegally,? you(?:'re| are) entitled\b",
    r"\bunder (?:the )?(?:law|consumer law),? you (?:can|could|should|are entitled)\b",
    r"\b(?:my|as) legal advice\b",
    r"\byou have a (?:strong|good|solid) (?:legal )?case\b",
    r"\byou(?:'d| would) win\b",
    r"\b(?:take|try) (?:an? |some )?(?:ibuprofen|paracetamol|aspirin|antihistamines?|tylenol|advil)\b",
    r"\byou'?ll be (?:fine|ok|okay|alright)\b.{0,30}$",
    r"\bno need to (?:see|call|visit) (?:a|your|the) (?:doctor|gp|pharmacist|hospital)\b",
    r"\b(?:usually|will) pass on (?:its|their) own\b",
    r"\byou have every right to (?!be\b|feel\b|ask\b|expect\b|know\b|complain\b)",
    r"\bI'?d (?:recommend|advise|suggest) (?:you )?(?:sue|take (?:them|him|her) to (?:court|small claims)|"
    r"do exactly that)\b",
    r"\b(?:index funds?|smarter money move|stocks? and shares|crypto(?:currency)?)\b",
    r"\bdeduct\b.{0,40}\btax(?:es)?\b",
    r"\bpay the minimum\b",
    r"\bif I were you,? I'?d\b",
    r"\bwill (?:fix|cure|heal|sort out) your (?:\w+ )?(?:pain|problems?|condition|back|insomnia)\b",
    r"\bskip the (?:physical therapy|physio|doctor|treatment|appointment)\b",
    r"\blegally,? you (?:don'?t|do not|do|are|aren'?t|can)\b",
    r"\b(?:put|invest) (?:it|the money|your refund|your savings) (?:in|into)\b",
    r"\btake out a (?:loan|payday loan)\b",
    r"\b(?:that|it|the) (?:rash|burn|reaction|symptom|smell|fumes?)s? (?:is|are|looks?) (?:completely |"
    r"totally )?(?:fine|harmless|nothing|safe)\b",
    r"\b(?:completely|totally|perfectly) (?:harmless|safe) (?:for you|to (?:use|breathe|eat|drink))\b",
    r"\bwon'?t (?:trigger|cause|affect) (?:your |any )?(?:seizures?|allerg\w+|asthma|migraines?|symptoms?)\b",
    r"\b(?:cure|cures|heal|heals|treat|treats) (?:your |the )?(?:\w+ )?(?:pain|condition|illness|symptoms|anxiety|"
    r"insomnia)\b",
    r"\b(?:boost|improve|build) (?:your )?(?:credit score|wealth)\b",
    r"\b(?:legally|by law),? (?:they|you|we) (?:have to|must|can)\b",
    r"\bnot legally binding\b",
    r"\b(?:perfectly|completely|totally|100\s?%) safe\b",
    r"\bsafe bet\b",
    r"\b(?:safe|fine|okay|ok) to (?:take|keep (?:using|taking|applying)|use (?:it )?(?:with|during|while|on))\b",
    r"\b(?:safe|fine|okay|ok) (?:during|while) (?:pregnancy|pregnant|breastfeeding)\b",
    r"\b(?:clear|go away|settle|heal) (?:up )?on (?:its|their) own\b",
    r"\bonly (?:ever )?goes up\b",
    r"\b(?:painkillers?|antihistamines?|antiseptic|ointment|ibuprofen|paracetamol|aspirin|tylenol|advil|hot bath|"
    r"ice pack)\b"
    r".{0,60}\b(?:should|will|'ll|sort|clear|fix|help)\b",
    r"\b(?:just|simply) (?:run|tape|put|apply|rub|take)\b.{0,40}\b(?:water|cream|bandage|plaster|tape|ice|tablets?|"
    r"pills?)\b",
    r"\bno need to see (?:anyone|anybody|someone|a doctor|a gp|a nurse)\b",
    r"\bwon'?t need (?:stitches|a doctor|to see)\b",
    r"\bheal (?:up )?(?:fine|nicely|by itself|on its own)\b",
    r"\b(?:you should|I'?d|I would|you could|I'?d advise|I advise)\b.{0,50}\b(?:sue|take (?:them|him|her|it) to court|"
    r"withhold(?:ing)? (?:the )?(?:rent|payment)|stop paying|file a (?:lawsuit|claim)|take out a (?:\w+ )?loan)",
    r"\b(?:breach|breaching|violat\w+) your (?:\w+ )?rights\b",
    r"\b(?:move|put|transfer|invest) (?:all )?your savings\b",
    r"\b(?:reclaim|claim back|deduct|write (?:\w+ ){0,3}off)\b.{0,40}\b(?:VAT|tax(?:es)?|business expense)\b",
    r"\byou can (?:just )?stop paying\b",
    r"\byou'?ll win\b",
    r"\b(?:sue|report) (?:them|him|her|your \w+)\b",
)
_ADVICE_GUARD = rx(
    r"\b(?:can'?t|cannot|not able to|unable to|don'?t|do not) (?:give|offer|provide) (?:legal|medical|financial)",
    r"\b(?:consult|speak to|see|check with) (?:a|your) (?:doctor|lawyer|solicitor|pharmacist|financial adviser|"
    r"advisor)",
)


def commitments(draft: Draft, checks: Checks) -> list[Flag]:
    if not checks.runs("guarantees"):
        return []
    for sentence in sentences(draft.text):
        promise = None if found(_PROMISE_GUARD, sentence) else found(_PROMISE, sentence)
        hit = promise or (None if found(_ADVICE_GUARD, sentence) else found(_ADVICE, sentence))
        if hit:
            return [
                checks.flag(
                    "guarantees",
                    "no-guarantees",
                    "Do not promise outcomes or give legal, medical or financial advice the policy does not cover.",
                    hit.group(),
                )
            ]
    return []


_SECRET = (
    r"(?:full |whole |long |16[- ]digit )?(?:card number|card'?s full number|credit card number|debit card number|"
    r"cvv2?|cvc|"
    r"security code|(?:3|three) digits on the back|front and back of (?:the|your) card|pps number|bsn|\bnif\b|\bdni\b|"
    r"\bnie\b|tax id|steuer-?id|social insurance number|sécurité sociale|personalausweis|id card number|"
    r"\bpin\b|pin number|password|passcode|social security(?: number)?|\bssn\b|national insurance(?: number)?|"
    r"passport number|driver'?s licen[cs]e number|bank account(?: number)?|account number|iban|sort code|"
    r"routing number|"
    r"online banking (?:login|details)|long number|number on the front|login (?:details|credentials|info)|credentials|"
    r"(?-i:SIN)|(?-i:NI) number|(?:code|digits|numbers?) (?:\w+ ){0,4}(?:on|from) the back|signature strip|"
    r"(?:photo|picture|image|scan|copy) of (?:both sides of |the (?:front|back) (?:and back )?of )?(?:your|"
    r"the) (?:\w+ )?card)"
)
_ASK_SECRET = rx(
    rf"\b(?:send|give|tell|provide|share|type|enter|confirm|pop|put|paste|drop|write|include|reply (?:to it )?with|"
    rf"read out|read me|need|what'?s|what is|can i (?:have|get)|"
    rf"could you (?:send|give|share|provide|confirm|type))\b.{{0,40}}{_SECRET}",
    rf"{_SECRET}.{{0,30}}\b(?:please|so (?:i|we) can|to verify|to confirm|for verification|here)\b",
)
_SECRET_GUARD = rx(
    r"\blast (?:4|four) (?:digits|numbers)\b",
    r"\b(?:don'?t|do not|never|please don'?t|no need to|won'?t)\b.{0,40}"
    r"(?:share|send|give|post|type|ask|need)",
    r"\bnever ask\b",
    r"\bremov\w+ (?:it|them|that)\b",
    r"\breset (?:link|your password)\b",
    r"\bpassword reset\b",
    r"\bone[- ]time code\b",
)
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_CARD_RUN = re.compile(r"\b\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")


_SHOWN_SECRET = rx(
    r"\b(?:cvv2?|cvc|security code|pin)\s*(?:is\s*|of\s*|:\s*)?\d{3,4}\b",
    r"\byour (?:current |old |new |temporary |temp |one-time )?password is\s+\S+",
)
_LAST_DIGITS = rx(r"\blast (?:4|four) (?:digits|numbers) of (?:your|the) (?:card|account)(?: number)?")


_SECRET_NAMED = rx(_SECRET)
_ASK_IT = rx(
    r"\b(?:type|send|pop|put|enter|share|give|paste|write)\b.{0,30}\b(?:the (?:full |whole )?number|it|them)\b.{0,20}"
    r"\b(?:here|in (?:the )?chat|below)\b"
)
"""Asking for "it" right after the customer named a secret ("You need my SSN?" "Type the full number here")."""


def sensitive(draft: Draft, checks: Checks) -> list[Flag]:
    # In outgoing text any card-length digit run is treated as a card number, valid checksum or not.
    shown_number = (
        found(_CARD_RUN, draft.text)
        or found(_SSN, draft.text)
        or found(_IBAN, draft.text)
        or found(_SHOWN_SECRET, draft.text)
    )
    if shown_number:
        return [
            checks.flag(
                "secrets",
                "no-secrets-in-text",
                "Remove the full card, account or id number from the reply.",
                shown_number.group(),
                "error",
            )
        ]
    for sentence in sentences(draft.text):
        sentence = _LAST_DIGITS.sub("the last digits", sentence)  # asking for the last 4 is allowed
        ask = found(_ASK_SECRET, sentence) or (
            found(_ASK_IT, sentence) if found(_SECRET_NAMED, " ".join(draft.earlier("customer")[-1:])) else None
        )
        if ask and not found(_SECRET_GUARD, sentence):
            return [
                checks.flag(
                    "secrets",
                    "no-secrets-asked",
                    "Never ask for full card numbers, CVV, passwords, PINs or national ids in chat.",
                    ask.group(),
                    "error",
                )
            ]
    return []


def customer_secrets(draft: Draft, checks: Checks) -> list[Flag]:
    """A customer who pastes a full card number: the rep must not repeat it or ask for more."""
    cards = extract_entities(draft.text).card_numbers
    if not cards:
        return []
    return [
        checks.flag(
            "secrets",
            "customer-shared-card",
            "The customer posted a full card number: do not repeat it, and tell them never to send it in chat.",
            f"…{cards[0][-4:]}",
        )
    ]


_DEATH = rx(r"\b(?:passed away|passed|died|deceased|death|late (?:mother|father|husband|wife|mum|dad|mom|partner))\b")
_DOCUMENTS_IN = rx(
    r"(?<!n't )(?<!not )(?<!don't )\b(?:received|got|have|verified|reviewed|checked|uploaded|thanks? for (?:sending|"
    r"uploading))\b.{0,60}"
    r"\b(?:death certificate|probate|letters? of administration|documents?|paperwork)\b",
    r"\b(?:death certificate|probate|documents?)\b.{0,40}\b(?:received|verified|came through|arrived|uploaded|"
    r"checked)\b",
)
_CLOSE = rx(
    r"\b(?:I'?ve|I have|I'?ll|I will|I can|we'?ll|we will|I'm going to|let me|I'?ve now|done)\b.{0,30}\b(?:close|"
    r"closed|closing|delete|deleted|shut|cancel(?:led)?)\b.{0,40}\baccount\b",
    r"\b(?:I'?ve|I have|I'?ll|I will)\s+(?:\w+\s+){0,4}(?:closed|close|shut|deleted)\s+(?:it|her|his)\b",
    r"\baccount (?:is|has been|will be) (?:now )?(?:closed|deleted|shut)\b",
    r"\baccount\b.{0,30}\b(?:has|have) been (?:closed|deleted|cancell?ed|shut)\b",
    r"\b(?:closed|deleted|shut|cancell?ed) (?:his|her|their) (?:account|line|subscription|membership)\b",
)
_OWNER = rx(
    r"\b(?:transfer|transferred|move|moved|change|changed|switch|switched|put|add|"
    r"added)\w*\b.{0,40}\b(?:account (?:ownership|owner|holder)|ownership of (?:the|this|her|his|your) account|(?:as|"
    r"to) the (?:new )?(?:account )?(?:owner|holder))\b",
    r"\b(?:account|it) (?:is|will be) (?:now )?in (?:your|his|her|their)(?: \w+'s)? name\b",
    r"\b(?:make|made|making) (?:him|her|you|them|your \w+) (?:the )?(?:new )?(?:account )?(?:owner|holder)\b",
    r"\bis now the (?:new )?(?:account )?(?:owner|holder)\b",
    r"\b(?:moved|transferred|put|switched)\b.{0,30}\baccount\b.{0,30}\binto your name\b",
    r"\byou'?re now the (?:new )?(?:account )?(?:owner|holder)\b",
    r"\b(?:reassign\w*|transfer\w*|hand\w*|mov\w+|give|gave|given)\b.{0,20}\baccount\b.{0,40}\b(?:to|over to) (?:your|"
    r"her|him|them|his|their)\b",
    r"\b(?:put|move|moved|transfer|transferred|switch|switched|port|ported)\b.{0,40}\b(?:in(?:to)? (?:your|her|his|"
    r"their|\w+'s) name|onto your account|"
    r"across to (?:you|yours)|to your account)\b",
    r"\b(?:give|gave|given|grant|granted|set (?:\w+ )?up with|added|add|linked|"
    r"link)\b.{0,40}\b(?:access to (?:\w+ )?account|"
    r"(?:full|joint|shared) access|authori[sz]ed user|to (?:her|his|their) account)\b",
    r"\b(?:invite|login|log-?in)\b.{0,40}\bso (?:he|she|they) can (?:see|access|manage|use)\b",
)
_WAIVE = rx(
    r"\b(?:waive|waived|waiving|write off|written off|wipe|wiped|forgive|forgiven|cancel|cancelled|clear|"
    r"cleared)\b.{0,30}\b(?:the |your |this |that )?(?:outstanding |remaining |unpaid )?(?:balance|debt|"
    r"amount (?:owed|due)|arrears|instal?lments?|what you owe)\b",
    r"\byou (?:don'?t|do not|won'?t) (?:have to|need to) pay (?:the )?(?:rest|remaining|balance|outstanding)\b",
    r"\b(?:waived|removed|cleared|wiped|written off|cancelled)\b.{0,25}\b(?:you owe|owed|balance|outstanding)\b",
    r"\bnothing (?:left )?to pay\b",
    r"\b(?:written off|wrote off|write off|waived?|cancelled|wiped|cleared|zeroed out)\s+(?:the\s+)?"
    r"(?:[$£€]\s?\d|\d+(?:[.,]\d+)? (?:euros?|pounds?|dollars?))",
    r"\b(?:I'?ll|I will|I'?ve) (?:write|written|wipe|wiped|zero|zeroed) (?:it|that|them) (?:off|out)\b",
    r"\bdon'?t worry about (?:the|that|paying)\s+(?:the\s+)?[$£€]\s?\d",
    r"\byou don'?t owe (?:us )?anything\b",
    r"\b(?:balance|debt|instal?lments?|plan|amount|arrears)\b.{0,20}\b(?:gone|paid in full|settled|forgiven)\b",
    r"\bcall it (?:even|quits|square)\b",
    r"\bconsider (?:it|that|the \w+) (?:gone|paid|settled)\b",
)
_CHARGEBACK_FILED = rx(
    r"\bdisputed (?:it|the (?:charge|payment)) with (?:my|the) (?:bank|card)\b",
    r"\b(?:chargeback|dispute) (?:with|through) (?:my|the) (?:bank|card)\b",
    r"\b(?:filed|opened|raised|started|lodged|made|submitted)\b.{0,30}\b(?:a |the )?(?:chargeback|dispute)\b",
    r"\b(?:chargeback|dispute)\b.{0,20}\b(?:filed|opened|in progress|is open|already)\b",
)
_CANCEL_CHARGEBACK = rx(
    r"\b(?:cancel|withdraw|close|reverse|drop|overrid)\w*\b.{0,20}\b(?:the |your )?(?:chargeback|dispute)\b",
    r"\bmark (?:the|your) (?:chargeback|dispute) as (?:resolved|closed)\b",
)
_UNBLOCK = rx(
    r"\b(?:lift|lifted|remove|removed|clear|cleared|override|overridden|overrode|release|released|take|taken|took|"
    r"bypass\w*|skip\w*|switch(?:ed)? off|turn(?:ed)? off|disabl\w+)\b.{0,25}"
    r"\b(?:fraud|security|suspicious[- ]activity|risk|verification|identity)[- ](?:block|hold|flag|check|freeze)s?\b",
    r"\b(?:taken|took|take|lifted|removed) the (?:block|hold|freeze) off\b",
    r"\bunfro(?:ze|zen)\b",
    r"\b(?:lifted|removed|cleared) the (?:block|hold|freeze)\b",
)
_CREDIT_MARK = rx(
    r"\b(?:remov\w*|delet\w*|clear\w*|tak\w+|took|wip\w+|withdr\w+)\b.{0,30}\b(?:collections?|default|negative|arrears|"
    r"late[- ]payment|credit)(?: \w+)? (?:marker|note|entry|flag|record|listing|report)s?\b",
    r"\b(?:remov\w*|delet\w*|clear\w*)\s+the default\b",
    r"\b(?:off|from) your credit (?:file|report|record|history)\b",
)
_REFUND_NOW = rx(
    r"\b(?:I'?ll|I will|I'?ve|I have|let me|I can)\b.{0,30}\b(?:refund(?:ed)?|issued? (?:a|the|your) refund|"
    r"send (?:the|your) money)\b",
    r"\brefund (?:issued|processed|sent)\b",
    r"\brefund(?:ed)? (?:you )?(?:now|anyway|directly|right away|today)\b",
)


_REFUSES = rx(
    r"\b(?:can'?t|cannot|unable|not able|won'?t be able)\b",
    r"\b(?:has|have|needs?) to be (?:reviewed|approved|checked)\b",
    r"\b(?:raised|opened|logged|submitted) a (?:request|ticket|case)\b",
)
"""A reply that says the rep cannot do the thing, or has passed it on for review, is not agreeing to it."""


_NEEDS_REVIEW: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    ("account_owner_change", _OWNER, None),
    ("balance_waiver", _WAIVE, None),
    ("chargeback_override", _CANCEL_CHARGEBACK, rx(r"\b(?:only you|your bank)\b")),
    ("security_block_override", _UNBLOCK, None),
    ("credit_marker_removal", _CREDIT_MARK, None),
)
"""What a rep may not agree to alone, in order: (the check, what the rep agreed to, what makes it not an agreement)."""


def regulated(draft: Draft, checks: Checks) -> list[Flag]:
    context = " ".join(t.text for t in draft.context)
    text = draft.text

    def flag(name: str, evidence: str) -> list[Flag]:
        message = f"{_CHECK[name].watches} needs a review first; escalate instead of agreeing."
        return [checks.flag(name, "needs-review", message, evidence, "error")]

    close = found(_CLOSE, text) if checks.runs("deceased_account_closure") else None
    if (
        close
        and found(_DEATH, context + " " + text)
        and not found(_DOCUMENTS_IN, context + " " + text)
        and not re.search(
            r"\b(?:once|after|when)\b.{0,60}\b(?:code|documents?|certificate|probate|verif)", text, re.IGNORECASE
        )
    ):
        return flag("deceased_account_closure", close.group())
    refuses = found(_REFUSES, text)
    for name, pattern, unless in _NEEDS_REVIEW:
        agreed = pattern.search(text) if checks.runs(name) else None
        if agreed and not refuses and not (unless and unless.search(text)):
            return flag(name, agreed.group())
    refund = found(_REFUND_NOW, text) if checks.runs("refund_during_chargeback") else None
    chargeback_open = found(_CHARGEBACK_FILED, context) or re.search(r"\bchargeback\b", text, re.IGNORECASE)
    if refund and chargeback_open and not refuses:
        return flag("refund_during_chargeback", refund.group())
    return []


_CHANGED = rx(
    r"\b(?:I'?ve|I have|I'?ll|I will|I'?ve now|we'?ve|we have|I just|just|now|done[,.!]?|all set[,.!]?|"
    r"I can)\s+(?:\w+\s+){0,2}"
    r"(?:updated|changed|switched|set|moved|added|replaced|redirected|reset|converted|swapped|update|change|switch|"
    r"add|replace|"
    r"redirect|reset|convert|swap)\b(?! you\b).{0,50}"
    r"\b(?:address|e-?mail|payment (?:method|card|details)|card (?:on file|details)|(?:new|different) card|"
    r"refund (?:destination|to|method)|"
    r"bank (?:account|details)|paypal|(?:phone|mobile|contact) number|your number|mobile|direct debit|default (?:card|"
    r"payment)|"
    r"refund (?:to|into|onto) (?:store credit|a gift card|credit))\b",
    r"\b(?:address|e-?mail|payment method|card on file|refund destination)\s+(?:is|has been)\s+(?:now\s+)?(?:updated|"
    r"changed|set)\b",
    r"\byour (?:new )?(?:address|email|e-mail) is now\b",
    r"\brefund (?:(?:will )?now )?(?:will go|is going|goes) to (?:your |the )?(?:new|other|different)\b",
    r"\b(?:is|as) (?:now )?your (?:new )?(?:default (?:payment method|card)|default)\b",
    r"\b(?:future orders|your orders?|parcels?|deliveries|it|they) will (?:now )?(?:go|ship|be sent|be delivered) to\b",
    r"\b(?:address|e-?mail|card|payment method|paypal|bank details|refund)\s+(?:\w+\s+)?(?:changed|updated|added|set|"
    r"switched|replaced)\b",
    r"\b(?:updated|changed|switched) (?:it|that) to\b",
    r"\b(?:e-?mail|address|card|phone number)\b.{0,25}\b(?:is now|is updated|is saved|has been saved|"
    r"has been updated)\b",
    r"^\s*(?:thanks!?\s*)?updated\b",
    r"\bwill now (?:ship|go|be sent|be delivered|be charged) to\b",
    r"\b(?:redirected|rerouted)\s+(?:[a-z]{0,4}-?\d{4,}|it|the order|your order|the parcel)\s+to\b",
    r"\b(?:set|updated|changed) the refund to go to\b",
    r"^\s*(?:updated|changed|done)\b.{0,40}\b(?:now go|go to|address)\b",
)
_VERIFIED = rx(
    r"\b(?:you'?re|you are|you'?ve been|that'?s|now) verified\b",
    r"\bverified,?\s+thank",
    r"\bthat matches\b",
    r"\b(?:both|that|those|the code) (?:match|matches|checks? out|is correct)\b",
    r"\bidentity (?:is |has been )?(?:confirmed|verified)\b",
    r"\bthanks?,? (?:you'?re|you are) (?:all )?verified\b",
    r"\bverification (?:passed|complete|successful)\b",
    r"\bcode (?:is )?(?:correct|confirmed|verified)\b",
    r"\b(?:confirmed|verified) (?:your|the customer'?s) identity\b",
    r"\b(?:answers?|details|postcode|information|info)\s+(?:\w+\s+)?(?:are|is) (?:correct|right|confirmed)\b",
)


def identity_verified(rep_texts: list[str]) -> bool:
    """Whether a rep confirmed the customer's identity in any of these messages."""
    return any(found(_VERIFIED, t) for t in rep_texts)


_DETAIL = (
    r"(?:address|e-?mail|phone|number|mobile|card|payment(?: method)?|bank(?: account| details)?|iban|paypal|apple pay|"
    r"google pay|direct debit|refund|parcel|delivery|login)"
)
_ASKS_CHANGE = rx(
    rf"\b(?:change|update|replace|switch|swap|redirect|reroute|move|put|use|add|remove|set)\b.{{0,40}}\b{_DETAIL}\b",
    rf"\b(?:new|different|other) {_DETAIL}\b",
    rf"\b{_DETAIL} (?:has|have|'s) changed\b",
    r"\brefund\b.{0,30}\b(?:to|into|onto|on)\b.{0,25}\b(?:new|other|different|husband'?s|wife'?s|partner'?s|gift card|"
    r"store credit)\b",
    r"\b(?:come|comes|go|goes|charge\w*) (?:off|from|to) (?:my )?(?:\w+'s )?(?:card|account)\b",
)
"""A customer asking for one of the details only a verified customer may change."""
_AGREES = rx(
    r"^\W*(?:done|all set)\b",
    r"\bthat'?s (?:saved|updated|changed|done|sorted)\b",
    r"\bI'?ll (?:\w+ )?(?:update|change|swap|switch|add|set|make|point|send|move|redirect|put|sort)\b",
    r"\bI'?ve (?:\w+ )?(?:updated|changed|swapped|switched|added|set|removed|moved|redirected|rerouted|sorted)\b",
    r"\b(?:has been|'s been|been) (?:rerouted|redirected|updated|changed|switched|swapped)\b",
    r"\bwill (?:now )?come from\b",
)
_DEFERS_CHECK = rx(
    r"\bverif",
    r"\bsecurity (?:question|check)",
    r"\b(?:confirm|check) (?:your identity|it'?s you)",
    r"\bone[- ]time code\b",
    r"\b(?:can'?t|cannot|unable to|not able to)\b",
    r"\byourself\b",
    r"\b(?:in|under|via|through) (?:your )?(?:settings|the app|"
    r"your account page|the website|my account)\b",
    r"\bpasscode\b",
    r"\bsent (?:you )?a code\b",
)
"""A reply that verifies first, refuses, or sends the customer to self-service is not a change."""


def identity(draft: Draft, checks: Checks) -> list[Flag]:
    if not checks.runs("identity_before_change") or identity_verified(draft.earlier("rep")):
        return []
    change = found(_CHANGED, draft.text)
    asked = draft.earlier("customer")[-1:]
    if not change and asked and found(_ASKS_CHANGE, asked[0]) and not found(_DEFERS_CHECK, draft.text):
        change = found(_AGREES, draft.text)
    if not change or re.search(
        r"\b(?:once|after|before|first|need to|must|can'?t|cannot)\b.{0,30}\bverif", draft.text, re.IGNORECASE
    ):
        return []
    if found(_VERIFIED, draft.text.split(change.group())[0]):
        return []
    return [
        checks.flag(
            "identity_before_change",
            "verify-before-change",
            "Verify the customer's identity as the policy says before changing account details.",
            change.group(),
            "error",
        )
    ]


Rule = Callable[[Draft], list[Flag]]
"""A pack's own rule (``pack_rules.py``)."""
BuiltIn = Callable[[Draft, Checks], list[Flag]]
"""A built-in check, as the packs in force configure it."""
REP_CHECKS: tuple[BuiltIn, ...] = (ai_disclosure, commitments, sensitive, regulated, identity)
CUSTOMER_CHECKS: tuple[BuiltIn, ...] = (customer_secrets,)


def evaluate(draft: Draft, checks: Checks, extra: tuple[Rule, ...] = (), *, customer: bool = False) -> list[Flag]:
    """Every flag the built-in checks of rep text (of a customer's, with ``customer``) and the ``extra``
    rules raise on ``draft``, one per category: the first check's, then the first rule's."""
    flags: dict[str, Flag] = {}
    raised = [f for check in (CUSTOMER_CHECKS if customer else REP_CHECKS) for f in check(draft, checks)]
    for flag in [*raised, *(f for rule in extra for f in rule(draft))]:
        flags.setdefault(flag.category, flag)
    return list(flags.values())
