"""Text on the pages: rich text sanitised (nh3, a maintained binding of the ammonia
sanitiser), dates for people."""

from __future__ import annotations

from datetime import datetime

import nh3
from markupsafe import Markup

TAGS = {
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "div",
    "hr",
}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def rich(value: str | None) -> Markup:
    """A description or comment as safe HTML: only harmless tags and http(s)/mailto links;
    plain text keeps its line breaks."""
    if not value:
        return Markup("")
    cleaned = nh3.clean(
        value,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    if "<" not in value:
        cleaned = cleaned.replace("\n", "<br>")
    return Markup(cleaned)  # noqa: S704 - sanitised just above


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")
