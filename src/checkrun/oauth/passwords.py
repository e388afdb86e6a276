"""Password and client-secret hashing with scrypt (standard library), compared in constant
time. Stored as `scrypt$n$r$p$<salt>$<hash>` (base64), so the cost can be raised later."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1
_DKLEN = 32
MIN_PASSWORD_LENGTH = 8


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _kdf(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=256 * 1024 * 1024
    )


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_kdf(secret, salt, N, R, P))}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """False for a wrong secret or a missing/unreadable hash (after the same amount of work,
    so that timing does not tell which)."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest)
        computed = _kdf(secret, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        _kdf(secret, b"0" * 16, N, R, P)
        return False
    return hmac.compare_digest(expected, computed)


async def verify_secret_async(secret: str, stored: str | None) -> bool:
    """The KDF takes tens of milliseconds: run it off the event loop."""
    return await asyncio.to_thread(verify_secret, secret, stored)
