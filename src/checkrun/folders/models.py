"""Tables of the folders domain."""

from __future__ import annotations
