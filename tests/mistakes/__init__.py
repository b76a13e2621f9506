"""Known mistakes as submissions: each is the reference with one line replaced, declared in ``<topic>.yaml`` here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclasses.dataclass(frozen=True)
class KnownMistake:
    """A known mistake as a submission: the reference with one line replaced (see tests/mistakes/<topic>.yaml)."""

    name: str
    mistake: str
    fails: frozenset[str]
    source: str


def known_mistakes(topic: str) -> dict[str, KnownMistake]:
    reference = (ROOT / "solutions" / f"{topic}.py").read_text()
    table = yaml.safe_load((HERE / f"{topic}.yaml").read_text())
    found = {}
    for name, row in table.items():
        count = reference.count(row["replace"])
        assert count == 1, f"tests/mistakes/{topic}.yaml: {name}: the line to replace occurs {count} times in the reference"
        source = reference.replace(row["replace"], row["with"])
        found[name] = KnownMistake(name, row["mistake"], frozenset(row["fails"]), source)
    return found
