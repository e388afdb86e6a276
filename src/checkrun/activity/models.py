"""Tables of the activity domain."""

from __future__ import annotations
