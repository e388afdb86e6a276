"""The kinds of email checkrun sends, and what a member gets of each until they choose.

Modes: `instant` (an email when it happens), `digest` (gathered into the daily digest), `off`.
Invites and password resets are answers to something the person (or an admin) asked for: they
are always sent and have no preference."""

from __future__ import annotations

from typing import Final, Literal, get_args

Mode = Literal["instant", "digest", "off"]
MODES: Final[tuple[str, ...]] = get_args(Mode)

INVITE: Final = "invite"
PASSWORD_RESET: Final = "password_reset"
TASK_ASSIGNED: Final = "task_assigned"
COMMENT: Final = "comment"  # an @mention of you, or a comment on your task
ISSUE: Final = "issue"  # an issue reported on your task, and its resolution
DUE_SOON: Final = "due_soon"
OVERDUE: Final = "overdue"
PROCESS_COMPLETED: Final = "process_completed"  # to the process's starter
DAILY_DIGEST: Final = "daily_digest"  # `digest` = send it, `off` = don't

ALWAYS_SENT: Final[frozenset[str]] = frozenset({INVITE, PASSWORD_RESET})
# What each kind is until the member chooses; the digest is opt-in.
DEFAULT_MODES: Final[dict[str, Mode]] = {
    TASK_ASSIGNED: "instant",
    COMMENT: "instant",
    ISSUE: "instant",
    DUE_SOON: "instant",
    OVERDUE: "instant",
    PROCESS_COMPLETED: "instant",
    DAILY_DIGEST: "off",
}
CHOOSABLE: Final[tuple[str, ...]] = tuple(DEFAULT_MODES)
