"""Secrets: passwords, PINs, card security codes and one-time codes after their word; API tokens by shape and
entropy."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from copilot.llm.pii.cues import STRICT_LINK, after
from copilot.llm.pii.span import Span, matched

_PASSWORD = after(
    r"password|passwd|pwd|pw|passcode|passphrase|passwort|kennwort|mot\sde\spasse|mdp|contrase[ñn]a|clave",
    r"[^\s]{1,64}",
    STRICT_LINK,
)
"""Any word after a password word and a link ("is", ":"): "password reset" has no link, so it is no password."""
_ANSWER = after(
    r"security\sanswer|answer\sto\smy\ssecurity\squestion|sicherheitsantwort|r[ée]ponse\ssecr[èe]te"
    r"|respuesta\sde\sseguridad",
    r"[^\n.,;!?]{1,60}",
    STRICT_LINK,
)
_NUMERIC = after(
    r"pin(?:\s?code|\snumber)?|pin-code|code\spin|c[óo]digo\spin|cvv2?|cvc2?|cvn|cid|security\scode"
    r"|card\sverification(?:\s(?:code|value))?|(?:karten)?pr[üu]fnummer|sicherheitscode|cryptogramme"
    r"|code\sde\ss[ée]curit[ée]|c[óo]digo\sde\sseguridad"
    r"|one-?time\s(?:code|password|passcode|pin)|otp|verification\scode|confirmation\scode|auth(?:entication)?\scode"
    r"|2fa\scode|sms\scode|login\scode|bestätigungscode|best[äa]tigungs-?code|einmalcode|einmalpasswort"
    r"|verifizierungscode|tan|code\sde\sv[ée]rification|code\sde\sconfirmation|code\s[àa]\susage\sunique"
    r"|c[óo]digo\sde\sverificaci[óo]n|c[óo]digo\sde\sconfirmaci[óo]n"
    r"|(?:the|a|my|your|le|el|mi|der|den|mein|mon)\s(?:code|c[óo]digo)",
    r"\d(?:[ -]?\d){2,7}(?![\d])",
)
"""Numbers after a PIN, card security code or one-time code word. A bare "code" counts only after an article
("the code 482913", "le code 602913"): "colour code 0045" names a thing, "the code" was sent to a person."""

_PREFIXED = re.compile(
    r"(?<![\w-])(?:sk|pk|rk)[-_](?:live|test|proj)[-_][A-Za-z0-9_-]{8,}"
    r"|(?<![\w-])sk-[A-Za-z0-9_-]{20,}"
    r"|(?<![\w-])(?:ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abposr]|AKIA|ASIA|AIza|ya29|hf|npm|pypi)[-_]?[A-Za-z0-9_-]{12,}"
    r"|(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"
)
"""Tokens whose prefix names the service: Stripe, OpenAI, GitHub, GitLab, Slack, AWS, Google, Hugging Face, npm,
PyPI; and JSON Web Tokens."""
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_\-/+=])[A-Za-z0-9_\-/+=]{20,}")
_MIN_ENTROPY = 3.5
"""Bits per character of a random-looking run: random base64 or hex has 4-6, English words and ids below 3.5."""


def secrets(text: str) -> Iterator[Span]:
    """Passwords and security answers after a link word; PINs, CVVs and one-time codes after their word."""
    for pattern in (_PASSWORD, _ANSWER, _NUMERIC):
        yield from matched(pattern, text, "SECRET")


def tokens(text: str) -> Iterator[Span]:
    """API keys and tokens: by a service's prefix, or a long run mixing digits and letters with high entropy."""
    yield from matched(_PREFIXED, text, "TOKEN")
    for m in _LONG_RUN.finditer(text):
        run = m.group()
        has_digit, has_letter = any(c.isdigit() for c in run), any(c.isalpha() for c in run)
        if has_digit and has_letter and _entropy(run) >= _MIN_ENTROPY:
            yield Span(m.start(), m.end(), "TOKEN")


def _entropy(run: str) -> float:
    """Shannon entropy of the characters of ``run``, in bits per character."""
    counts = Counter(run)
    return -sum(n / len(run) * math.log2(n / len(run)) for n in counts.values())
