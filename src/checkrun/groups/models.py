"""Tables of the groups domain."""

from __future__ import annotations
