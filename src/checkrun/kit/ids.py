"""Resource ids are 32-char lowercase hex (a UUID without hyphens), as Tallyfy's are."""

from __future__ import annotations

import re
import uuid

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def new_id() -> str:
    return uuid.uuid4().hex


def is_id(value: str | None) -> bool:
    return bool(value) and bool(_HEX32.match(value or ""))
