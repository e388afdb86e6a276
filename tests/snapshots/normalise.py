"""Only what varies between runs is replaced: generated ids, secrets and the server's address.
Everything else (key order, types, nulls, fixed timestamps) stays as the server wrote it."""

from __future__ import annotations

import json
import re
from typing import Any

HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
# Bearer tokens, refresh tokens and signing secrets carry a prefix, then url-safe random text.
# A template's alias ends in the first six characters of its id.
ALIAS = re.compile(r'("alias": "[^"]*-)([0-9a-f]{6})"')
SECRET = re.compile(r"\b(?:ckr|ckra|ckrr|whsec)_[A-Za-z0-9_\-]+")


class Normaliser:
    """Maps each varying value to a placeholder numbered in order of first appearance."""

    def __init__(self, base: str, secrets: list[str]) -> None:
        self.base = base
        # Guest codes and link tokens have no prefix: the scenario names them.
        known = [re.escape(s) for s in sorted(set(secrets), key=len, reverse=True)]
        self.pattern = re.compile(
            "|".join(
                [f"(?P<secret>{'|'.join([*known, SECRET.pattern])})", f"(?P<id>{HEX32.pattern})"]
            )
        )
        self.seen: dict[str, str] = {}

    def _place(self, match: re.Match[str]) -> str:
        kind, value = str(match.lastgroup), match.group(0)
        if value not in self.seen:
            count = sum(1 for p in self.seen.values() if p.startswith(f"<{kind}:"))
            self.seen[value] = f"<{kind}:{count + 1}>"
        return self.seen[value]

    def text(self, value: Any) -> str:
        dumped = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        placed = self.pattern.sub(self._place, dumped.replace(self.base, "<base>"))
        return ALIAS.sub(self._alias, placed)

    def _alias(self, match: re.Match[str]) -> str:
        owners = [p for value, p in self.seen.items() if value.startswith(match.group(2))]
        return f'{match.group(1)}{owners[0] if owners else match.group(2)}[:6]"'
