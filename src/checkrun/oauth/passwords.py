"""Password and client-secret hashing: argon2id (argon2-cffi), in its PHC string
`$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>`. Hashes of earlier versions,
`scrypt$n$r$p$<salt>$<hash>` (base64), still verify; `needs_rehash` tells the callers to replace
them (and any argon2id hash made with other parameters) once the secret is known to be right."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's first recommendation for argon2id (Password Storage Cheat Sheet): 19 MiB, 2
# passes, 1 lane. Chosen over argon2-cffi's default (RFC 9106's low-memory profile, 64 MiB
# and 4 lanes) because every sign-in holds that memory and its lanes' threads for the whole
# computation: on the small machines checkrun is self-hosted on, a burst of sign-ins stays
# within memory and leaves cores to the requests being served.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_PASSWORD_LENGTH = 8

_SCRYPT_DKLEN = 32


def hash_secret(secret: str) -> str:
    return HASHER.hash(secret)


@cache
def _decoy() -> str:
    """A hash no secret is checked against for real: an unknown user costs the same work."""
    return HASHER.hash("checkrun decoy")


def verify_secret(secret: str, stored: str | None) -> bool:
    """False for a wrong secret or a missing/unreadable hash (after the same amount of work,
    so that timing does not tell which)."""
    if not stored:
        return _verify_decoy(secret)
    if stored.startswith("scrypt$"):
        return _verify_scrypt(secret, stored)
    try:
        return HASHER.verify(stored, secret)
    except InvalidHashError:
        return _verify_decoy(secret)
    except VerificationError:
        return False


def _verify_decoy(secret: str) -> bool:
    try:
        HASHER.verify(_decoy(), secret)
    except VerificationError:
        pass
    return False


def _verify_scrypt(secret: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(
            secret.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=_SCRYPT_DKLEN,
            maxmem=256 * 1024 * 1024,
        )
        return hmac.compare_digest(base64.b64decode(digest), computed)
    except (ValueError, TypeError):
        return _verify_decoy(secret)


def needs_rehash(stored: str) -> bool:
    """True for a hash in an older scheme or with other parameters than `HASHER`'s."""
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


async def verify_secret_async(secret: str, stored: str | None) -> bool:
    """The KDF takes tens of milliseconds: run it off the event loop."""
    return await asyncio.to_thread(verify_secret, secret, stored)


async def hash_secret_async(secret: str) -> str:
    return await asyncio.to_thread(hash_secret, secret)
