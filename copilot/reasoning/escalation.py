"""When a conversation must go to a person with more authority or care: rules in code, judged over the
whole conversation so far, each result naming its category, the turn that triggered it and the evidence.

Idioms that only sound alarming ("the wait is murder", "my battery is dead") are kept out by
patterns that need the serious reading (a person who died, a lawyer being brought in), not by a
model's judgement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from copilot.conversation.language import non_english_code, reading_languages
from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.classifier import Classifier, Utterance
from copilot.reasoning.examples import ExampleIndex
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.signals import (
    TEXTS_REMEMBERED,
    extract_entities,
    fold,
    rx,
    sentences,
    sentiment,
)

ESCALATION_CATEGORIES = (
    "bereavement",
    "accessibility",
    "vulnerability",
    "legal_threat",
    "fraud_dispute",
    "repeat_contact",
    "anger",
    "human_request",
)

_KIN = (
    r"(?:mother|mom|mum|mommy|mummy|father|dad|daddy|husband|wife|partner|son|daughter|child|baby|brother|"
    r"sister|grandmother|grandfather|grandma|grandpa|granny|gran|nan|nana|aunt|auntie|uncle|cousin|fianc[eé]e?|"
    r"boyfriend|girlfriend|friend|parent|parents|stepmother|stepfather|stepdad|stepmom|stepmum|in-law|"
    r"father-in-law|mother-in-law|spouse|late \w+)"
)
_WHO = (
    rf"(?:(?:my|our|his|her|their)\s+(?:(?:dear|beloved|elderly|late)\s+)?{_KIN}|"
    r"\b(?:he|she)\b|\bmum\b|\bmom\b|\bdad\b)"
)


@dataclass(frozen=True)
class Trigger:
    """One way a category shows itself in a customer message; ``guard`` vetoes a look-alike."""

    category: str
    pattern: re.Pattern[str]
    guard: re.Pattern[str] | None = None
    folded: bool = False
    """``pattern`` reads the sentence ``fold``-ed (a pack's phrases: case and accents ignored)."""


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "bereavement",
        rx(
            rf"{_WHO}(?:'s| is| has)?\s+(?:sadly\s+)?(?:no longer with us|not with us any ?more)",
            r"\b(?:was|got) killed\b",
            r"\bdidn'?t make it (?:out of|through)\b",
            r"\b(?:she|he)'?s gone,? sadly\b",
            rf"{_WHO}\s+(?:\w+\s+){{0,3}}(?:died|passed(?:\s+away|\s+on)?|has\s+passed|is\s+no\s+longer\s+with\s+us)",
            rf"(?:since|after|when)\s+{_WHO}\s+(?:\w+\s+)?(?:died|passed)",
            rf"(?:death|passing|loss|funeral)\s+of\s+{_WHO}",
            rf"lost\s+{_WHO}",
            rf"{_WHO}'s\s+(?:death|passing|funeral|estate)",
            r"\b(?:passed away|deceased|bereave\w*|probate|letters? of administration|executor|executrix)\b",
            r"\bmy\s+late\s+\w+",
            r"\b(?:his|her)\s+estate\b",
            r"\bdeath certificate\b",
            r"\b(?:he|she)(?:'s| has| had)\s+(?:\w+\s+)?(?:passed|died|gone)\b",
            r"\bwidow(?:ed|er)?\b",
            r"\b(?:recently|just)\s+bereaved\b",
            r"\bwas (?:my|our) (?:late )?(?:wife|husband|mother|father|mum|dad|mom)'?s\b.{0,40}\b(?:close|shut|cancel)",
        ),
    ),
    Trigger(
        "accessibility",
        rx(
            r"\bbecause of my (?:eyesight|hearing|sight|condition|disability|arthritis)\b",
            r"\bmy (?:eyesight|eyes|hearing)(?:'s| is| are)? (?:going|shot|bad|poor|failing|not great)\b",
            r"\b(?:arthritis|learning disabilit\w+)\b",
            r"\bbigger (?:print|writing|text|font)\b",
            r"\bplain (?:words|language)\b",
            r"\b(?:visually|hearing) impaired\b",
            r"\b(?:i'?m|i am|am|being|as a|i'?ve been|registered)\s+(?:\w+\s+)?(?:blind|deaf|partially sighted|"
            r"visually impaired|hard of hearing|disabled|dyslexic|autistic)\b",
            r"\bscreen[- ]?reader\b",
            r"\b(?:visual|hearing|sight)\s+impair\w*",
            r"\blow vision\b",
            r"\bbraille\b",
            r"\blarge[- ]print\b",
            r"\b(?:relay service|text relay|relay uk|711 relay|sign language|bsl|asl)\b",
            r"\bhearing aids?\b",
            r"\bwheelchair\b",
            r"\b(?:my|a)\s+disabilit\w+",
            r"\bdyslexi\w+",
            r"\b(?:mobility|cognitive|learning)\s+(?:issue|problem|impairment|difficult\w*|disabilit\w*)",
            r"\bcan'?t\s+(?:see|read|hear)\s+(?:the\s+)?(?:screen|small|text|print|phone|well)",
            r"\baccessib\w+\s+(?:format|version|document|instructions)",
            r"\bassistive\b",
            r"\b(?:adhd|autism|ms|parkinson'?s|arthritis)\b.*\b(?:hard|difficult|struggle|can'?t|need)",
            r"\b(?:i have|i've got|living with|diagnosed with)\s+(?:ms|multiple sclerosis|arthritis|parkinson'?s|"
            r"cerebral palsy|"
            r"a disability|chronic \w+|fibromyalgia|me/cfs|epilepsy|a (?:visual|hearing) impairment)\b",
            r"\b(?:amputee|paralys\w+|paraplegic|quadriplegic|crutches|walking frame|mobility scooter|housebound)\b",
            r"\b(?:can'?t|cannot|unable to)\s+(?:lift|carry|walk|stand|use a mouse|type|hold)\b",
            r"\b(?:deaf|blind)\b(?!\s+to\b)",
            r"\b(?:autistic|autism|brain injury|head injury|tremor|adhd|learning disabilit\w+|cognitive impairment|"
            r"easy[- ]read|short and simple)\b",
        ),
        guard=rx(
            r"\b(?:blind|deaf)\s+to\b",
            r"\bblind(?:ing|ly)?\s+(?:obvious|spot|date|fold)",
            r"\bturn(?:ing|ed)? a deaf ear\b",
            r"\bfalling on deaf ears\b",
            r"\b(?:roller|window|venetian) blinds?\b",
        ),
    ),
    Trigger(
        "vulnerability",
        rx(
            r"\b(?:barely|hardly) (?:holding|coping|managing|keeping)\b",
            r"\bterrified\b",
            r"\b(?:nervous )?breakdown\b",
            r"\bnot in a (?:good|great|great) (?:place|way)\b",
            r"\b(?:hits|hit|beats|hurts) me\b",
            r"\bbecause of my (?:partner|husband|wife|ex)\b",
            r"\bpensioner\b",
            r"\b(?:unemployment|jobseeker'?s?) (?:benefit|allowance)\b",
            r"\bnothing (?:for|to buy) food\b",
            r"\bskipping meals\b",
            r"\bkeep going like this\b",
            r"\bmoney for the month\b",
            r"\b(?:cancer|chemo\w*|radiotherapy|terminal(?:ly)?|dialysis|stroke|heart attack|seriously ill|very ill|"
            r"in (?:the )?hospital|hospitali[sz]ed|surgery|operation next|intensive care|hospice)\b",
            r"\b(?:can'?t|cannot|couldn'?t)\s+afford\b",
            r"\b(?:lost|losing)\s+my\s+job\b",
            r"\b(?:unemployed|laid off|made redundant|redundancy)\b",
            r"\boverdra(?:wn|ft)\b",
            r"\b(?:struggling|struggle)\s+(?:financially|with money|to pay|to make ends meet|with bills)\b",
            r"\b(?:no money|every penny|every cent|rent money|food money|pay (?:my |the )?rent|on benefits|"
            r"food bank)\b",
            r"\b(?:suicid\w*|self[- ]harm|end it all|can'?t cope|can'?t go on|breaking down|panic attacks?|"
            r"depress(?:ed|ion)|anxiety|mental health|in tears|crying|desperate|at my wit'?s end|overwhelmed)\b",
            r"\b(?:domestic (?:abuse|violence)|abusive (?:partner|ex|husband|wife)|fled|refuge|restraining order)\b",
            r"\b(?:i'?m|i am)\s+(?:8\d|9\d)\b",
            r"\b(?:elderly|dementia|alzheimer'?s)\b",
            r"\b(?:get|gets|getting|i'?m|am) (?:easily |very |so )?confused\b",
            r"\b(?:pregnan\w+|newborn|carer for|caring for my)\b",
            r"\b(?:universal credit|on benefits|state pension|living on (?:a|my) pension|short for (?:rent|food|bills)|"
            r"payday|can'?t pay (?:my|the) (?:rent|bills))\b",
            r"\b(?:muddled|forgetful|getting on a bit)\b",
            r"\b(?:i'?m|i am)\s+(?:7\d|8\d|9\d|1\d\d)\b",
            r"\b(?:he|she)(?:'s| has)\s+left\b",
            r"\b(?:left me|walked out|separated|going through a divorce|kicked (?:me )?out|homeless|evicted)\b",
            r"\b(?:not coping|can'?t cope|no work|out of work|skint|broke|in debt|debt collect\w+|bailiffs?|"
            r"payment plan|"
            r"rough time|hard time|struggling)\b",
            r"\b(?:scared|frightened)\b",
            r"\bafraid (?:of|to|for|that)\b",
            r"\b(?:my )?ex(?:-partner|-husband|-wife| partner| husband| wife)?\s+(?:still\s+)?(?:has|knows|uses|"
            r"is using)\b",
        ),
        guard=rx(r"\boperation (?:of|manual|mode)\b", r"\bcrying (?:shame|out loud)\b"),
    ),
    Trigger(
        "legal_threat",
        rx(
            r"\b(?:my|our) (?:lawyer|attorney|solicitor|avocat|abogado|rechtsanwalt)\b",
            r"\bgo(?:ing)? to court\b",
            r"\btake (?:legal )?action\b",
            r"\bconsumer (?:office|centre|center)\b",
            r"\bdenounce\b",
            r"\bbefore we file\b",
            r"\b(?:sue|suing|sued|lawsuit|legal action|legal proceedings|take (?:you|this|it|the matter) to court|"
            r"small claims|court case|class action)\b",
            r"\b(?:contact|call|get|instruct|speak (?:to|with)|talk (?:to|with)|hear from|consult|involve|"
            r"ask)\s+(?:my|a|an|our)\s+(?:lawyer|attorney|solicitor|legal team)\b",
            r"\bmy\s+(?:lawyer|attorney|solicitor)\s+(?:will|is going|says|said|is)",
            r"\b(?:report|complain|complaint|escalate)\w*\s+(?:you\s+|this\s+|"
            r"it\s+)?(?:to\s+)?(?:the\s+)?(?:trading standards|ombudsman|ftc|cma|"
            r"attorney general|consumer (?:protection|rights|affairs)|regulator|better business bureau|bbb|"
            r"citizens advice|ccpa|ico|data protection authority)\b",
            r"\b(?:trading standards|ombudsman|attorney general|consumer protection (?:agency|bureau|office))\b",
            r"\bsee you in court\b",
            r"\blegal (?:advice|rights)\b.*\b(?:will|going to)\b",
            r"\b(?:file|lodge|make|raise|submit|send)\s+(?:a\s+)?(?:formal\s+)?complaint\s+(?:with|to)\s+(?:the\s+)?"
            r"(?!you\b|your\b)\w+",
            r"\b(?:verbraucherzentrale|which\?|cnil|ico|dgccrf|ocu|ccpc|financial ombudsman|consumer council|"
            r"consumer rights (?:body|organisation|organization)|national consumer)\b",
            r"\b(?:speak|speaking|talk|talking|go|going)\s+(?:to|with)\s+(?:a|my|our)\s+(?:lawyer|attorney|"
            r"solicitor)\b",
            r"\bmy\s+(?:lawyer|attorney|solicitor)\s+(?:has\s+)?(?:advised|says|said|told|is|will)\b",
            r"\b(?:in touch|spoken|spoke|talked) with (?:my|a) (?:lawyer|attorney|solicitor)\b",
            r"\b(?:grounds for a claim|claim against you|formal notice|letter before action|legal notice)\b",
            r"\b(?:filing|file|opened|open|lodged|lodge|made|make)\s+(?:a\s+)?(?:formal\s+)?complaints?\s+with\b",
            r"\breport(?:ing)? you to\b",
            r"\bconsumer (?:affairs|arbitration|protection|ombudsman)\b",
        ),
        guard=rx(
            r"\b(?:lawyer|attorney|solicitor) (?:friend|colleague) (?:recommended|told|suggested)\b",
            r"\bof (?:my|our|the) (?:household|house|family)\b",
            r"\b(?:getting|got|being|was|were) sued\b",
        ),
    ),
    Trigger(
        "fraud_dispute",
        rx(
            r"\b(?:i|we) (?:didn'?t|did not|never) (?:buy|order|make|place|do) (?:it|that|this|them)\b",
            r"\ba \w+ (?:i|we) (?:didn'?t|did not|never) (?:buy|order|make|place)\b",
            r"\b(?:somebody|someone)\s+(?:\w+\s+){0,2}(?:made|placed|ordered|bought)\b",
            r"\bi don'?t know this (?:payment|charge|order)\b",
            r"\bcharged (?:\w+ )?(?:3|three|4|four) times\b",
            r"\btaken (?:the )?payment\b.{0,40}\btwice\b",
            r"\bnever signed up\b",
            r"\b(?:didn'?t|did not|never|don'?t)\s+(?:make|authori[sz]e|place|order|buy|purchase|sign up for|"
            r"approve)\b.{0,40}\b(?:charge|payment|order|purchase|transaction|this|that|it)",
            r"\b(?:don'?t|do not|didn'?t)\s+recogni[sz]e\b.{0,30}\b(?:charge|payment|transaction|order|purchase)",
            r"\bunrecogni[sz]ed\s+(?:charge|payment|transaction)",
            r"\bunauthori[sz]ed\b",
            r"\bfraud\w*\b(?! (?:book|novel|documentary))",
            r"\b(?:stolen|cloned|compromised)\s+(?:card|account|details|identity)\b",
            r"\bidentity theft\b",
            r"\b(?:hacked|hijacked|someone (?:else )?(?:used|got into|accessed|logged into|has been using))\b",
            r"\bcharge\s?backs?\b",
            r"\b(?:dispute|disputing|contest)\w*\s+(?:the|this|that|a|my)?\s*(?:charge|payment|transaction)\b",
            r"\b(?:not me|wasn'?t me)\b",
            r"\bscammed\b",
            r"\ba scam (?:order|charge|payment|transaction)\b",
            r"\b(?:double[- ]charged|charged (?:me )?(?:twice|two times|double)|two (?:identical )?charges|"
            r"duplicate (?:charge|payment)|"
            r"billed twice)\b",
            r"\bcharge\b.{0,60}\b(?:don'?t|do not|didn'?t)\s+recogni[sz]e\b",
            r"\b(?:what|why) is (?:this|that) (?:charge|payment)\b",
            r"\bonly (?:placed|made|ordered) one\b",
            r"\b(?:charged|billed) (?:me )?for (?:something|an order|things?) (?:i|we) (?:didn'?t|never)\b",
            r"(?=.*\b(?:charge|charged|payment|card|account|billed|statement|transaction|subscription|fee)\b)"
            r".*\b(?:never|haven'?t|have not|didn'?t|did not|hasn'?t)\s+(?:\w+\s+)?(?:ordered|order|bought|buy|"
            r"signed up|sign up|"
            r"made|placed|authori[sz]ed|authori[sz]e|purchased|used)\b",
            r"\b(?:isn'?t|aren'?t|wasn'?t|weren'?t|not) mine\b",
            r"\bwho authori[sz]ed\b",
            r"\b(?:card|account|details|password|login)\s+(?:was|were|has been|had been|got|is)\s+(?:stolen|used|"
            r"compromised|hacked|cloned)\b",
            r"\b(?:someone|somebody)\s+(?:\w+\s+)?(?:logged|log) (?:in|into)\b",
            r"\b(?:still )?(?:has|knows) my (?:password|login)\b",
            r"\brecogni[sz]e\b.{0,40}\bbut not\b",
        ),
        guard=rx(
            r"\brecogni[sz]e (?:it|this|that|the charge) now\b",
            r"\bnow i (?:recogni[sz]e|remember)\b",
            r"\bnot (?:a |an )?(?:fraud|scam)\b",
            r"\babout (?:\w+ )?fraud\b",
            r"\bdidn'?t make it (?:out|through)\b",
        ),
    ),
    Trigger(
        "repeat_contact",
        rx(
            r"\b(?:two|three|four|five|several|\d+) (?:of your )?(?:colleagues|agents|different people|reps)\b",
            r"\b(?:raised|asked|reported|mentioned|explained|chased)\b.{0,30}\b(?:two|three|four|five|several|\d+|"
            r"multiple) (?:separate )?(?:occasions|times)\b",
            r"\bevery (?:day|single day) (?:this|last) (?:week|month)\b",
            r"\bback again\b",
            r"\bnot for the first time\b",
            r"\b(?:yesterday|last week) and (?:the (?:day|week) before|on \w+)\b",
            r"\b(?:and )?the one before (?:that|him|her)\b",
            r"\bchasing (?:this|it|my \w+)\b",
            r"\bevery time i'?m told\b",
            r"\bsame as the last (?:two|three|few|\d+) times\b",
            r"\brepeat (?:everything|myself|it all) again\b",
            r"\b(?:rang|called|phoned)\b.{0,25}\b(?:emailed|messaged|wrote)\b",
            r"\b(?:third|3rd|fourth|4th|fifth|5th|sixth|umpteenth|tenth|nth)\s+(?:time|chat|call|email|attempt|"
            r"contact)\b",
            r"\b(?:called|contacted|chatted|emailed|written|messaged|rung|rang|phoned|spoken to you|been in touch|"
            r"reached out)\s+"
            r"(?:you\s+|your team\s+|support\s+|you guys\s+)?(?:\w+\s+)?(?:\d+|two|three|four|five|six|several|"
            r"multiple|many|countless|so many|numerous)\s+times\b",
            r"\b(?:\d+|two|three|four|five|several|multiple|many)\s+(?:previous |other |different )?(?:chats|calls|"
            r"emails|times|agents|reps)\b.{0,40}\b(?:still|nobody|no one|nothing|again|already)\b",
            r"\b(?:again and again|over and over|keep (?:having to )?(?:contact|call|chas|message|writ)\w*|"
            r"every time i (?:call|contact|chat))\b",
            r"\b(?:nobody|no one) (?:has )?(?:fixed|sorted|resolved|helped)\b.{0,30}\b(?:after|despite)\b",
            r"\bcontact(?:ed|ing)? (?:you )?(?:again|yet again)\b.{0,40}\b(?:still|same)\b",
            r"\byet again\b",
            r"\b(?:twice|two times|three times|several times|multiple times|many times)\s+(?:before|already|now|"
            r"previously)\b",
            r"\b(?:my|the)\s+(?:last|previous|past)\s+(?:two|three|four|few|several|\d+)\s+(?:chats|calls|emails|"
            r"messages|contacts|tickets)\b",
            r"\balready (?:contacted|called|chatted|emailed|written|asked|told)\b.{0,40}\b(?:twice|times|before|"
            r"already)\b",
            r"\b(?:same (?:issue|problem|question) as (?:my )?(?:last|previous|before))\b",
            r"\b(?:nth|third|fourth) chat\b",
            r"\bstill (?:no|not)\b.{0,40}\b(?:after|despite)\s+(?:\w+\s+)?(?:chats|calls|emails|contacts)\b",
            r"\b(?:third|fourth|fifth|sixth|3rd|4th|5th|6th)\s+(?:message|contact|attempt|request|complaint|email)\b",
            r"\bcontact (?:number )?(?:three|four|five|3|4|5)\b",
            r"\b(?:back|here|writing|messaging) (?:again|once more)\b",
            r"\b(?:two|three|four|\d+)\s+(?:emails|chats|calls|messages)\s+(?:and|now|already|so far)\b",
            r"\b(?:messaged|contacted|called|emailed|wrote|chatted)\s+(?:\w+\s+){0,3}(?:and|then)\s+again\b",
            r"\b(?:spoke|spoken|talked|chatted)\s+(?:with|to)\s+(?:your\s+)?(?:colleagues?|agents?|reps?|team|someone|"
            r"people)\s+"
            r"(?:\w+\s+)?(?:twice|three times|several times|\w+ times)\b",
            r"\bafter\s+(?:two|three|four|several|multiple|\d+)\s+(?:chats|calls|emails|contacts|attempts)\b",
        ),
        guard=rx(
            r"\b(?:second|third|fourth) time (?:i'?ve |i )?(?:ordered|order|buying|bought|shopping|using)\b",
            r"\btimes? (?:i'?ve|i have) (?:ordered|bought)\b",
        ),
    ),
    Trigger(
        "human_request",
        rx(
            r"\bescalated? to (?:a|the|your) (?:manager|supervisor|team lead)\b",
            r"\b(?:talk|speak) to (?:ur|your) (?:boss|manager)\b",
            r"\bcould a (?:person|human|real person) (?:ring|call|phone|contact)\b",
            r"\b(?:call|ring) from a (?:team lead|manager|supervisor|human|person)\b",
            r"\bare you an? (?:ai|bot|robot)\b",
            r"\b(?:speak|talk|chat)\w*\s+(?:to|with)\s+(?:a|an|your|the|some)\s*(?:\w+\s+)?(?:manager|supervisor|"
            r"human|person|real person|someone senior|team lead(?:er)?|boss|superior)\b",
            r"\b(?:get|put|transfer|connect|escalate|pass)\s+me\s+(?:to|through to|on to|over to)\s+(?:a|an|your|the|"
            r"someone)\b",
            r"\b(?:want|need|demand|request)\w*\s+(?:a|an|your|the|to see a|to speak to a)?\s*(?:manager|supervisor|"
            r"human|real person|someone senior|team lead)\b",
            r"\b(?:is this|are you) (?:a )?(?:bot|robot|machine|ai|automated)\b",
            r"\breal (?:human|person)\b",
            r"\bhuman being\b",
            r"\bsomeone (?:more )?senior\b",
            r"\b(?:your|a) (?:manager|supervisor) (?:please|now|immediately)\b",
            r"^\s*(?:manager|supervisor|human|agent|representative)(?:\s+please)?\s*[.!]*\s*$",
            r"\bescalate\s+(?:this|it|my (?:case|complaint))\s+to\s+(?:a|an|your|the)\s+(?:\w+\s+)?(?:supervisor|"
            r"manager|team lead|senior)\b",
            r"\b(?:can|could|may)\s+i\s+(?:have|get|speak to|talk to)\s+(?:a|an|your|the)\s+(?:supervisor|manager|"
            r"human|team lead)\b",
            r"\blet me (?:speak|talk) to\b",
            r"\b(?:someone|somebody|anyone|person)\s+(?:\w+\s+)?(?:higher up|more senior|with more (?:say|authority|"
            r"power))\b",
            r"\b(?:manager|supervisor|team lead(?:er)?)\s+(?:pls|plz|please|now|asap|available|maybe)\b",
            r"\bis there (?:a|an|any)\s+(?:manager|supervisor|team lead(?:er)?|human)\b",
            r"\b(?:put|get)\s+(?:me\s+)?through to\b",
            r"\bspeak (?:to|with) whoever\b",
            r"\b(?:speak|talk)\s+(?:to|with)\s+(?:a|an|your|the)\s+team leader\b",
        ),
        guard=rx(
            r"\b(?:check|ask|confirm)\w* with (?:your|the|a) (?:manager|supervisor|team lead)\b"
            r"(?!.*\b(?:speak|talk|transfer)\b)",
            r"\b(?:don'?t|do not|no)\s+(?:need|want)\s+(?:a|an|to speak to a|to talk to a)?\s*(?:manager|supervisor|"
            r"human)",
            r"\bi can see you'?re a (?:real )?(?:person|human)\b",
        ),
    ),
)

_INSULTS = rx(
    r"\b(?:pathetic|useless|incompetent|idiots?|morons?|clowns|(?:a|total|complete|absolute) joke|joke of a|"
    r"scam(?:mers)?|"
    r"thieves|crooks|rip[- ]?off|disgrace(?:ful)?|shambles|furious|livid|fuming|seething|outraged|wtf|screw (?:you|"
    r"this)|"
    r"sh\*t|f\*+|bloody useless|worst (?:company|service|experience|customer service)|muppets?|ffs|bullshit|bs|"
    r"taking the piss|pissed off|i'?m (?:so |really |very |absolutely )?(?:angry|mad|furious|livid))\b"
)
"""Words that show strong anger by themselves."""
_ANGER_WORDS = rx(
    r"\b(?:disgusted|disgusting|appalling|appalled|ridiculous|unacceptable|fed up|"
    r"sick (?:and tired )?of (?:this|you|waiting|being|your|the (?:wait|excuses|delays))|had enough|"
    r"never (?:again|shop(?:ping)? (?:here|with you))|damn|hell|bloody|crap|angry|mad at|annoyed|frustrated|"
    r"unbelievable|outrageous|absurd|infuriat\w+|nonsense|rubbish|wasting my time|waste of (?:my )?time|"
    r"(?:are you|is anyone|is anybody) (?:even )?(?:reading|listening)|i (?:just|already) (?:said|told you))\b"
)
"""Words that show anger when the message is also negative or loud."""
_ANGER_GUARD = rx(
    r"\b(?:a (?:little|bit) (?:annoyed|frustrated)|slightly (?:annoyed|frustrated)|but (?:it'?s|that'?s) (?:fine|ok|"
    r"okay))\b",
    r"\bnot (?:angry|upset|furious|mad)\b",
    r"\bno (?:worries|problem)\b",
    r"\bhell of a (?:deal|good)\b",
)


@dataclass(frozen=True)
class Escalation:
    """A reason to bring in a person with more authority or care, with the turn that showed it."""

    category: str
    seq: int
    evidence: str
    """The words that triggered it (or the sentiment, for a rising anger trend)."""
    severity: str = "normal"
    """``high`` for fraud disputes over HIGH_AMOUNT, legal threats and self-harm language."""
    queue: str = ""
    """Required handling, from the pack's taxonomy: the team to hand over to, how to talk, what applies."""
    tone: str = ""
    citations: tuple[str, ...] = ()


HIGH_AMOUNT = 500


def _caps_shouting(text: str) -> bool:
    words = re.findall(r"[A-Za-z]{3,}", text)
    shouted = [
        w
        for w in words
        if w.isupper() and w not in {"USD", "GBP", "EUR", "ETA", "CVV", "PIN", "SMS", "UPS", "DHL", "FAQ"}
    ]
    return (len(shouted) >= 2 and len(shouted) >= 0.25 * max(len(words), 1)) or any(len(w) >= 4 for w in shouted)


def _anger(turn: Turn, score: float, previous: list[float]) -> str | None:
    text = turn.text
    if _ANGER_GUARD.search(text):
        return None
    insult = _INSULTS.search(text)
    if insult:
        return insult.group()
    word = _ANGER_WORDS.search(text)
    loud = _caps_shouting(text) or text.count("!") >= 3 or any(p in text for p in ("!!", "?!", "??"))
    if word and (score <= -0.2 or loud):
        return word.group()
    if loud and score <= -0.4:
        return "shouting"
    if len(previous) >= 2 and score <= -0.5 and previous[-1] <= -0.3 and score < previous[0] - 0.3:
        return f"sentiment falling to {score:.2f}"
    return None


_GUARDS = {t.category: t.guard for t in TRIGGERS}
"""A pack's phrases and examples for a built-in category respect the same idiom guards as its triggers."""


@dataclass(frozen=True)
class Reader:
    """A classifier over the embeddings of one language's labelled messages, and those messages (the closest
    one is the evidence shown)."""

    classifier: Classifier | None
    examples: ExampleIndex | None


@dataclass(frozen=True)
class Taxonomy:
    """What the pack adds to the coded triggers: its phrases and patterns, and a classifier per language trained
    on its labelled messages (category examples and escalation-examples.jsonl, and those of its other languages)."""

    phrases: dict[tuple[str, ...], tuple[Trigger, ...]] = field(default_factory=dict)
    """The categories' phrases and patterns by the pack's other languages a text is read in (``reading_languages``):
    those of the default language, with those of the text's own (or of all, when too short to tell)."""
    readers: dict[str, Reader] = field(default_factory=dict)
    """Language → its classifier, for the languages with labelled messages."""
    languages: tuple[str, ...] = ("en",)
    """The pack's languages, its default first."""
    vector: Callable[[str], np.ndarray] | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    """Category → the probability the classifier needs."""
    _read: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict, compare=False, repr=False)
    """Text → what the classifier read in it: each turn is scored once, not on every later message."""

    @classmethod
    def of(
        cls, guidance: Guidance, vectors: Callable[[list[str]], np.ndarray], vector: Callable[[str], np.ndarray]
    ) -> Taxonomy:
        known = {c.id for c in guidance.categories}
        default, *others = guidance.languages
        labelled = {
            language: [
                *(
                    Utterance(example, frozenset({c.id}))
                    for c in guidance.categories
                    for example in (c.examples if language == default else c.examples_by_language.get(language, ()))
                ),
                *(
                    u
                    for u in (
                        guidance.utterances
                        if language == default
                        else guidance.utterances_by_language.get(language, ())
                    )
                    if u.labels <= known
                ),
            ]
            for language in guidance.languages
        }
        thresholds = {
            c.id: c.threshold if c.threshold is not None else guidance.classifier_threshold for c in guidance.categories
        }
        texts = list(dict.fromkeys(u.text for found in labelled.values() for u in found))
        embedded = dict(zip(texts, vectors(texts), strict=True)) if texts else {}

        def once(batch: Sequence[str]) -> np.ndarray:  # the index and the classifiers share one embedding pass
            return np.stack([embedded[t] for t in batch])

        def reader(found: list[Utterance]) -> Reader:
            pairs = [(label, u.text) for u in found for label in sorted(u.labels)]
            return Reader(Classifier.train(found, once), ExampleIndex(pairs, once) if pairs else None)

        readings = {(), tuple(others), *((code,) for code in others)}
        return cls(
            {read: _phrases(guidance, read) for read in readings},
            {language: reader(found) for language, found in labelled.items() if found},
            guidance.languages,
            vector,
            thresholds,
        )

    def triggers(self, text: str) -> tuple[Trigger, ...]:
        """The pack's phrases and patterns that read ``text``."""
        return self.phrases.get(reading_languages(text, self.languages), ())

    def _reader(self, text: str) -> Reader | None:
        """The classifier of the language ``text`` is written in: the default language's unless the text is
        clearly in another of the pack's languages, whose own classifier (if it has examples) reads it. The
        packaged embedding model is English-only: it misreads other languages (docs/eval.md)."""
        code = non_english_code(text)
        if code in self.languages[1:]:
            return self.readers.get(code)
        return self.readers.get(self.languages[0])

    def closest(self, turn: Turn) -> tuple[tuple[str, str], ...]:
        """(category, evidence) for every category the classifier of the turn's language reads in it."""
        reader = self._reader(turn.text)
        if reader is None or reader.classifier is None or self.vector is None:
            return ()
        read = self._read.get(turn.text)
        if read is None:
            if len(self._read) >= TEXTS_REMEMBERED:
                self._read.clear()
            vector = self.vector(turn.text)
            scores = reader.classifier.scores(vector)
            nearest = {m.label: m.example for m in reader.examples.best(vector)} if reader.examples else {}
            read = self._read[turn.text] = tuple(
                (category, f"reads like {category.replace('_', ' ')} ({p:.2f}), as in “{nearest.get(category, '')}”")
                for category, p in scores.items()
                if p >= self.thresholds.get(category, 1.0)
                and not ((guard := _GUARDS.get(category)) and guard.search(turn.text))
            )
        return read


def _phrases(guidance: Guidance, read: tuple[str, ...]) -> tuple[Trigger, ...]:
    """A trigger for each category with phrases or patterns in the default language or those ``read``."""
    return tuple(
        Trigger(category.id, pattern, _GUARDS.get(category.id), folded=True)
        for category in guidance.categories
        if (pattern := category.pattern(read)) is not None
    )


@lru_cache(maxsize=TEXTS_REMEMBERED)
def _trigger_hits(text: str, triggers: tuple[Trigger, ...]) -> tuple[tuple[str, str], ...]:
    """(category, matched text) for each trigger that fires on a sentence of ``text``, in trigger order;
    remembered, since every message reads the customer's earlier turns again."""
    hits = []
    for trigger in triggers:
        for sentence in sentences(text):
            match = trigger.pattern.search(fold(sentence) if trigger.folded else sentence)
            if match and not (trigger.guard and trigger.guard.search(sentence)):
                hits.append((trigger.category, sentence[match.start() : match.end()]))
                break
    return tuple(hits)


def detect(conversation: Conversation, seq: int | None = None, taxonomy: Taxonomy | None = None) -> list[Escalation]:
    """Every category that applies to the conversation up to ``seq`` (all of it when None), once each."""
    found: dict[str, Escalation] = {}
    scores: list[float] = []
    turns = conversation.turns if seq is None else conversation.turns_upto(seq)
    for turn in turns:
        if turn.role != "customer":
            continue
        for category, matched in _trigger_hits(
            turn.text, TRIGGERS + (taxonomy.triggers(turn.text) if taxonomy else ())
        ):
            if category not in found:
                found[category] = Escalation(category, turn.seq, matched.strip(), _severity(category, turn, matched))
        for category, evidence in taxonomy.closest(turn) if taxonomy else ():
            if category not in found and category != "anger":  # anger is read from tone, below
                found[category] = Escalation(category, turn.seq, evidence, _severity(category, turn, evidence))
        score = sentiment(turn.text)
        if "anger" not in found and (angry := _anger(turn, score, scores)):
            found["anger"] = Escalation("anger", turn.seq, angry)
        scores.append(score)
    order = {c: i for i, c in enumerate(ESCALATION_CATEGORIES)}
    return sorted(found.values(), key=lambda e: order.get(e.category, len(order)))


def _severity(category: str, turn: Turn, evidence: str) -> str:
    if category == "legal_threat" or re.search(r"suicid|self[- ]harm|end it all", evidence, re.IGNORECASE):
        return "high"
    if category == "fraud_dispute" and any(m.amount >= HIGH_AMOUNT for m in extract_entities(turn.text).money):
        return "high"
    return "normal"
