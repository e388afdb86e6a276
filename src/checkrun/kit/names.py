"""The key under which names that differ only in case are one name, alike on every database.

Neither database can be trusted with this: SQLite's lower() folds ASCII only, and PostgreSQL's
follows the database's locale (ASCII only under "C"). So the key is computed here, in Python,
for all of Unicode (full case folding, so "STRASSE" and "Straße" meet; NFC, so a composed and
a decomposed "Ä" meet), stored beside the name and made unique there."""

from __future__ import annotations

import unicodedata


def name_key(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
