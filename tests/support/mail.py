"""A real SMTP server for tests (aiosmtpd on a free loopback port) and what arrived there.

`smtp_sink()` starts it and points Django's SMTP settings at it; the mails the code sends
(through the job queue, core.tasks.mail_send) are read back as parsed messages with their
links."""

import email
import email.policy
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.gunicorn import free_port
from tests.support.tiers import needs_tier

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command

LINK_RE = re.compile(r"https?://[^\s>\"']+")


@dataclass
class Mail:
    to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def links(self) -> list[str]:
        return LINK_RE.findall(self.body)


@dataclass
class SmtpSink:
    port: int
    _mails: list[Mail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self._lock:
            self._mails.append(Mail(to=list(envelope.rcpt_tos), message=message))  # type: ignore[arg-type]
        return "250 OK"

    def mails(self, to: str | None = None) -> list[Mail]:
        with self._lock:
            return [m for m in self._mails if to is None or to.lower() in (t.lower() for t in m.to)]

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()

    def wait_for(self, to: str, *, count: int = 1, timeout_s: float = 20) -> list[Mail]:
        """The mails to `to`, once at least `count` arrived (a worker sends them asynchronously)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.mails(to)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) to {to} did not arrive; got {[m.to for m in self.mails()]}")


@needs_tier("smtp")
@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
