"""Deterministic synthetic policy packs for benchmarks and load tests (same seed, same pack)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from retrieval.packs import Clause, Pack

_TOPICS = [
    "refund",
    "return",
    "exchange",
    "delivery",
    "parcel",
    "warranty",
    "subscription",
    "invoice",
    "account",
    "password",
    "address",
    "chargeback",
    "voucher",
    "repair",
    "replacement",
    "bereavement",
    "accessibility",
    "privacy",
    "complaint",
    "escalation",
    "loyalty points",
    "gift card",
    "price match",
    "installation",
]
_SUBJECTS = ["Customers", "Members", "Business buyers", "Reps", "Team leads", "The billing team", "Carriers"]
_VERBS = ["may request", "must receive", "are entitled to", "can be offered", "should confirm", "need approval for"]
_OBJECTS = [
    "a full refund",
    "store credit",
    "a free replacement",
    "a carrier trace",
    "a written confirmation",
    "an express reshipment",
    "a goodwill credit",
    "identity verification",
    "a repair booking",
    "a callback",
]
_CONDITIONS = [
    "within {n} days of delivery",
    "after {n} business days",
    "for orders above ${n}",
    "when the item is faulty",
    "if the parcel is late by {n} days",
    "once per {n} months",
    "unless the order shipped",
    "before the renewal date",
    "when documents are provided",
]


def synthetic_pack(
    clauses: int, seed: int = 7, *, name: str = "synthetic", version: str = "1.0", sentences: tuple[int, int] = (2, 5)
) -> Pack:
    """A pack of ``clauses`` plausible policy clauses; text and ids depend only on the arguments."""
    rng = random.Random(seed)
    made: list[Clause] = []
    for number in range(clauses):
        topic = rng.choice(_TOPICS)
        text = " ".join(
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_CONDITIONS).format(n=rng.randint(2, 90))} for {topic} cases."
            for _ in range(rng.randint(*sentences))
        )
        made.append(
            Clause(
                f"{topic.replace(' ', '-')}.rule-{number:05d}",
                f"{topic.capitalize()} rule {number}",
                text,
                f"clauses/{topic}.md",
                number + 1,
            )
        )
    return Pack(
        name, version, f"Synthetic pack ({clauses} clauses, seed {seed})", (), date(2020, 1, 1), None, tuple(made)
    )


def write_pack(pack: Pack, root: Path) -> Path:
    """Write ``pack`` in the on-disk pack format (one file per topic) and return the folder."""
    (root / "clauses").mkdir(parents=True, exist_ok=True)
    (root / "pack.toml").write_text(
        f'[pack]\nname = "{pack.name}"\nversion = "{pack.version}"\ntitle = "{pack.title}"\n'
        f'jurisdictions = {list(pack.jurisdictions)!r}\neffective_from = "{pack.effective_from}"\n'.replace("'", '"'),
        encoding="utf-8",
    )
    files: dict[str, list[str]] = {}
    for clause in pack.clauses:
        files.setdefault(clause.file, [f"# {Path(clause.file).stem.capitalize()}\n"]).append(
            f"## {clause.title} {{#{clause.id}}}\n{clause.text}\n"
        )
    for name, parts in files.items():
        (root / name).write_text("\n".join(parts), encoding="utf-8")
    return root
