"""Tables of the oauth domain."""

from __future__ import annotations
