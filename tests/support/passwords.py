"""Password hashes as stored: the current argon2id prefix, and scrypt as earlier versions wrote."""

from __future__ import annotations

import base64
import hashlib
import os

ARGON2ID = "$argon2id$v=19$m=19456,t=2,p=1$"


def legacy_scrypt(secret: str) -> str:
    """A hash as checkrun wrote them before argon2id: `scrypt$n$r$p$<salt>$<hash>`."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
