"""A real SMTP server (aiosmtpd) on a free loopback port that keeps every message it accepts.

It can refuse mail for a while (`refuse()` answers every RCPT with 451, as a server in trouble
does) and accept again (`accept()`), so tests see an outage and its recovery over the wire;
`reject(address)` answers RCPT for that address with 550 for good (a mailbox that does not
exist). Extra keyword arguments go to aiosmtpd's Controller (TLS, authentication)."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    def part(self, subtype: str) -> str:
        """The text of the `text/<subtype>` part ("plain" or "html")."""
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None, f"no text/{subtype} part in {self.subject!r}"
        content = found.get_content()
        assert isinstance(content, str)
        return content

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


class _Handler:
    def __init__(self, box: SmtpServer) -> None:
        self.box = box

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,  # noqa: N802
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.box.refusing:
            self.box.refused += 1
            return "451 4.3.0 Try again later"
        if address.lower() in self.box.rejected:
            self.box.refused += 1
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self,
        server: SMTP,
        session: Session,  # noqa: N802
        envelope: Envelope,
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.box._keep(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, **controller: Any) -> None:
        self.port = free_port()
        self.refusing = False
        self.refused = 0
        self.rejected: set[str] = set()
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **controller
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def refuse(self) -> None:
        self.refusing = True

    def accept(self) -> None:
        self.refusing = False

    def reject(self, address: str) -> None:
        self.rejected.add(address.lower())

    def _keep(self, received: Received) -> None:
        with self._changed:
            self.messages.append(received)
            self._changed.notify_all()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(
        self, matches: Callable[[Received], bool], count: int = 1, timeout: float = 30.0
    ) -> list[Received]:
        """The first `count` messages that match, waiting up to `timeout` seconds for them."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in self.messages if matches(m)]
                if len(found) >= count:
                    return found
                left = end - time.monotonic()
                assert left > 0, (
                    f"expected {count} matching email(s), got {len(found)}; "
                    f"received: {[m.subject for m in self.messages]}"
                )
                self._changed.wait(left)
