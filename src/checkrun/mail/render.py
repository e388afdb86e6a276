"""Email bodies: one Jinja2 template per kind in a plain-text and an HTML version, both inside
one shared layout whose footer carries the recipient's preferences link. The HTML templates
autoescape, so every name, title and comment a user typed is escaped there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECT_LENGTH = 200

_env = Environment(
    loader=PackageLoader("checkrun.mail", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(value: str, limit: int = SUBJECT_LENGTH) -> str:
    """A header-safe line: no CR/LF (no header injection), whitespace collapsed, clipped."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render(kind: str, subject: str, **context: Any) -> Rendered:
    """The `kind` templates with `context`; `footer_url` (the preferences link) and
    `org_name` are expected by the layout."""
    values = {"subject": one_line(subject), **context}
    return Rendered(
        subject=values["subject"],
        text=_env.get_template(f"{kind}.txt").render(values),
        html=_env.get_template(f"{kind}.html").render(values),
    )
