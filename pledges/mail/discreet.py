"""Discreet mail: for a signer who asked for it, nothing on the outside of a message says
what it is about.

A signer in danger if seen to be a gender-justice ally may share a phone or an inbox. For
them, every message to them, and every message to their partners about them, gets a neutral
subject (chosen where the message is written, with ``subject_for``) and the sender name
``DISCREET_SENDER_NAME`` (set at delivery, with ``sender_for``). The body still works: its
links, its words.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import ColumnElement, false, func

from pledges.models import Signature


def wants_discreet_mail(signature: Signature | None) -> bool:
    return bool(signature is not None and signature.discreet_mail)


def subject_for(signature: Signature | None, subject: str, neutral: str) -> str:
    """``neutral`` ("Your link", "A reminder") for a signer who asked for discreet mail."""
    return neutral if wants_discreet_mail(signature) else subject


def discreet_column() -> ColumnElement[bool]:
    """``wants_discreet_mail`` in SQL, for a query that outer-joins the signature a message
    is about: delivery reads it with the batch instead of loading each signature."""
    return func.coalesce(Signature.discreet_mail, false())


def sender_for(discreet: bool, sender: str) -> str:
    """``sender`` (MAIL_FROM), under the neutral name when the message is about a signer who
    asked for discreet mail; the address stays, so replies and SPF keep working."""
    if not discreet:
        return sender
    return formataddr((current_app.config["DISCREET_SENDER_NAME"], parseaddr(sender)[1]))
