"""Imports every domain's tables so that Base.metadata is complete (Alembic, create_all)."""

import checkrun.activity.models
import checkrun.comments.models
import checkrun.customfields.models
import checkrun.folders.models
import checkrun.groups.models
import checkrun.guests.models
import checkrun.idempotency.models
import checkrun.mail.models
import checkrun.oauth.models
import checkrun.scheduler.models
import checkrun.snippets.models
import checkrun.tags.models
import checkrun.webhooks.models  # noqa: F401 - imported for their tables
from checkrun.files.models import Asset
from checkrun.members.models import AccessToken, Membership, User
from checkrun.orgs.models import Organization
from checkrun.runs.models import Run
from checkrun.tasks.models import CaptureValue, Task, TaskCompletion, TaskOwner
from checkrun.templates.models import Capture, Checklist, Step

__all__ = [
    "AccessToken",
    "Asset",
    "Capture",
    "CaptureValue",
    "Checklist",
    "Membership",
    "Organization",
    "Run",
    "Step",
    "Task",
    "TaskCompletion",
    "TaskOwner",
    "User",
]
