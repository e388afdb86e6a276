"""Tables of the guests domain."""

from __future__ import annotations
