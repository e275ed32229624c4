"""What a signer does in a browser, done with the test client, and what lands in their inbox."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from flask.testing import FlaskClient

from pledges.database import utcnow
from pledges.mail.delivery import deliver_due
from pledges.models import Pledge

CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


LINK_RE = re.compile(r"http://pledges\.test(/(?:confirm|me)/[\w-]+)")


def sign_form_data(pledge: Pledge, **overrides) -> dict:
    data = {
        "name": "Amina Odhiambo",
        "email": "amina@example.org",
        "country": "KE",
        "role": "woman",
        "organization": "",
        "visibility": "full",
        "commitments": [str(c.id) for c in pledge.commitments if c.required],
        "personal_note": "",
        "consent": "y",
    }
    data.update(overrides)
    return data


def sign_via_form(client: FlaskClient, pledge: Pledge, **overrides):
    """Open the pledge page, fill the form as a person would, and send it."""
    page = client.get(f"/p/{pledge.slug}")
    data = sign_form_data(pledge, **overrides)
    data.setdefault("csrf_token", csrf_token(page.text))
    return client.post(f"/p/{pledge.slug}", data=data)


def deliver_and_read(outbox_dir: Path) -> list[EmailMessage]:
    """Deliver due outbox rows (needs an app context) and return every .eml, oldest first."""
    deliver_due()
    return read_outbox(outbox_dir)


def read_outbox(outbox_dir: Path) -> list[EmailMessage]:
    if not outbox_dir.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=default)
        for path in sorted(outbox_dir.glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message: EmailMessage) -> dict[str, str]:
    """{"confirm": path, "me": path} from the plain-text part."""
    return {path.split("/")[1]: path for path in LINK_RE.findall(text_of(message))}


def confirm_via_link(client: FlaskClient, confirm_path: str):
    page = client.get(confirm_path)
    return client.post(confirm_path, data={"csrf_token": csrf_token(page.text)})


def signer_page(
    client: FlaskClient, outbox_dir: Path, pledge: Pledge, confirm=True, **fields
) -> str:
    """Sign (and confirm), returning the path of the signer's private page."""
    sign_via_form(client, pledge, **fields)
    links = links_in(deliver_and_read(outbox_dir)[-1])
    if confirm:
        confirm_via_link(client, links["confirm"])
    return links["me"]


def action_form_data(pledge: Pledge, **overrides) -> dict:
    """The action form filled in as a signer would."""
    return {
        "commitment_id": str(pledge.commitments[0].id),
        "kind": "conversation",
        "done_on": utcnow().date().isoformat(),
        "description": "Talked with my brothers about sharing care work at home.",
        "people_reached": "3",
        "evidence_url": "",
        "visibility": "public",
        **overrides,
    }


def log_in(client: FlaskClient, email: str, password: str = "correct horse battery staple"):
    """Log in through the real form; returns the response to the POST."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )
