"""Tables of the tags domain."""

from __future__ import annotations
