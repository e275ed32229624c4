"""Where a built email goes: a folder of .eml files, or an SMTP server.

A transport sends one message with ``send``, or many through ``session()``: a context that
the delivery of a batch keeps open, so SMTP connects once per batch rather than per message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from flask import Flask


class Sender(Protocol):
    def send(self, message: EmailMessage, name: str) -> None: ...


class Transport(Sender, Protocol):
    def session(self) -> AbstractContextManager[Sender]: ...


def session_of(transport: Sender) -> AbstractContextManager[Sender]:
    """``transport.session()``; a sender with no sessions of its own (a test's stand-in that
    only has ``send``) is its own session."""
    session = getattr(transport, "session", None)
    return session() if session is not None else nullcontext(transport)


def message_name(row_id: int) -> str:
    """The name a message is sent under: its outbox row's id, so its copy can be found."""
    return f"{row_id:010d}"


class FileTransport:
    """Writes each message to ``<dir>/<name>.eml``, atomically.

    Re-sending the same outbox row overwrites the same file, so a retry after a crash
    between writing and recording never leaves two copies.
    """

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def session(self) -> AbstractContextManager[FileTransport]:
        return nullcontext(self)  # nothing to open: every message is its own file

    def send(self, message: EmailMessage, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Not ending in .eml while it is being written: whatever watches the folder for
        # *.eml (a mail viewer, the tests) must never read half a message.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
            os.replace(tmp, self.directory / f"{name}.eml")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def forget(self, names: set[str], addresses: set[str], keep: set[str] = frozenset()) -> int:
        """Delete the copies named ``names``, and every other copy not named in ``keep``
        addressed to one of ``addresses`` (without case): a withdrawn signer's mail.
        Returns how many went."""
        if not self.directory.is_dir():
            return 0
        wanted = {address.casefold() for address in addresses if address}
        forgotten = 0
        for path in self.directory.glob("*.eml"):
            if path.stem in names or (
                wanted and path.stem not in keep and _recipients(path) & wanted
            ):
                path.unlink(missing_ok=True)
                forgotten += 1
        return forgotten


def _recipients(path: Path) -> set[str]:
    with path.open("rb") as fh:
        headers = BytesHeaderParser(policy=default_policy).parse(fh)
    fields = [str(value) for name in ("To", "Cc") for value in headers.get_all(name, [])]
    return {address.casefold() for _, address in getaddresses(fields) if address}


class SmtpTransport:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        security: str,
        timeout: int,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.security, self.timeout = security, timeout

    def send(self, message: EmailMessage, name: str) -> None:
        """One message over a connection of its own."""
        with self.session() as session:
            session.send(message, name)

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        """One connection for many messages, closed (QUIT) at the end."""
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


class SmtpSession:
    """Messages sent one after another over one SMTP connection.

    The connection is opened at the first send. A server that drops it (an idle timeout, a
    limit of messages per connection) is connected to again once, and the message sent
    again; if that fails too the error is the message's, and the next message starts on a
    fresh connection. A refusal of one message (a recipient unknown, say) leaves the
    connection as it is, since smtplib resets the transaction itself; any other error drops
    it, as its state is unknown.
    """

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, name: str) -> None:
        for last_try in (False, True):
            try:
                self._connection().send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self._drop()
                if last_try:
                    raise
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
                raise
            except BaseException:
                self._drop()
                raise

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self.transport.connect()
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the messages were sent or recorded as failed already
        finally:
            self._drop()


def transport_for(app: Flask) -> Transport:
    cfg = app.config
    if cfg["MAIL_TRANSPORT"] == "smtp":
        return SmtpTransport(
            cfg["SMTP_HOST"],
            cfg["SMTP_PORT"],
            cfg["SMTP_USERNAME"],
            cfg["SMTP_PASSWORD"],
            cfg["SMTP_SECURITY"],
            cfg["SMTP_TIMEOUT"],
        )
    return FileTransport(cfg["MAIL_OUTBOX_DIR"])
