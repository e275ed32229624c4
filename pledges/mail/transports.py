"""Where a built email goes: a folder of .eml files, or an SMTP server."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from flask import Flask


class Transport(Protocol):
    def send(self, message: EmailMessage, name: str) -> None: ...


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
        context = ssl.create_default_context()
        smtp_class = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
        kwargs = {"context": context} if self.security == "ssl" else {}
        with smtp_class(self.host, self.port, timeout=self.timeout, **kwargs) as smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


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
