"""The listeners of the domain event bus, for every entry point (the app and the CLI): the
activity feed, the webhook outbox, the email a change causes, and the processes a completed
task launches."""

from __future__ import annotations

from checkrun.activity import listener as activity_listener
from checkrun.customfields import listener as customfields_listener
from checkrun.kit import events
from checkrun.mail import digest, notify
from checkrun.runs import subprocesses
from checkrun.webhooks import listener as webhooks_listener

# The daily digest registers its scheduler job when imported; every entry point imports this.
JOBS = (digest,)


def install() -> None:
    events.subscribe(activity_listener.on_event)
    events.subscribe(customfields_listener.on_event)
    events.subscribe(webhooks_listener.on_event)
    events.subscribe(notify.on_event)
    events.subscribe(subprocesses.on_event)
