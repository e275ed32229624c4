"""One-click unsubscribing (RFC 8058): the one home of every kind of mail a signer can stop
from the mail client (check-in reminders, organizers' updates).

The client posts to the link in the message's ``List-Unsubscribe`` header with no cookie and
no CSRF token, possibly long after the message arrived: the link is a signed signature id,
salted per kind of mail, that stops that kind and can do nothing else. Unlike a private-page
link it need not be stored, nor replaced with each message. A GET of the link only shows
the button (mail scanners open links); the POST (``OneClickForm``) unsubscribes.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from pledges.extensions import db
from pledges.models import Signature


class OneClickLink:
    """Tokens for one kind of mail: ``salt`` keeps a reminder link from stopping updates."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def token(self, signature_id: int) -> str:
        return self._serializer().dumps(signature_id)

    def signature(self, token: str) -> Signature | None:
        """The signature the link was made for; None for a forged one, or one whose
        signature was since deleted."""
        try:
            signature_id = self._serializer().loads(token)
        except BadSignature:
            return None
        if not isinstance(signature_id, int) or isinstance(signature_id, bool):
            return None
        return db.session.get(Signature, signature_id)
