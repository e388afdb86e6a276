"""Tables of the comments domain."""

from __future__ import annotations
