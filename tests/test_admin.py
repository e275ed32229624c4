"""Admins invite users, change roles, deactivate accounts and retry dead mail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pledges.extensions import db
from pledges.models import AuditEntry, MailStatus, OutboxEmail, User
from tests.factories import make_user
from tests.helpers import csrf_token, deliver_and_read, log_in, logged_in, text_of

ADMIN = "admin@example.org"
ORGANIZER = "organizer@example.org"


@pytest.fixture
def accounts(app) -> dict[str, int]:
    with app.app_context():
        return {
            "admin": make_user(ADMIN, role="admin").id,
            "organizer": make_user(ORGANIZER).id,
        }


def post_with_token(client, path: str, **data):
    token = csrf_token(client.get("/admin/users").text)
    return client.post(path, data={"csrf_token": token, **data})


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def user(app, user_id: int) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found


def dead_letter(app, to: str = "amina.wanjiru@example.org") -> int:
    with app.app_context():
        row = OutboxEmail(
            to_address=to,
            subject="Confirm your signature",
            body_text="…",
            status=MailStatus.DEAD,
            attempts=8,
            last_error=(
                f"SMTPRecipientsRefused: 550 <{to}> mailbox unavailable "
                "(forwarded to <juma.baraka@example.net>)"
            ),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


GET_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/mail"]


def post_paths(accounts) -> list[str]:
    organizer = accounts["organizer"]
    return [
        "/admin/users/new",
        f"/admin/users/{organizer}/deactivate",
        f"/admin/users/{organizer}/reactivate",
        f"/admin/users/{organizer}/role",
        f"/admin/users/{organizer}/invite",
        "/admin/mail/retry",
    ]


def test_admin_pages_are_for_admins_only(app, accounts):
    anonymous = app.test_client()
    organizer = logged_in(app, ORGANIZER)
    admin = logged_in(app, ADMIN)
    for path in GET_PAGES:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
        assert organizer.get(path).status_code == 403, path
        assert admin.get(path, follow_redirects=True).status_code == 200, path
    token = csrf_token(organizer.get("/organize/").text)
    for path in post_paths(accounts):
        assert organizer.post(path, data={"csrf_token": token}).status_code == 403, path
        assert anonymous.post(path).status_code in (302, 400), path
    assert user(app, accounts["organizer"]).active


def test_every_admin_form_needs_its_csrf_token(app, accounts):
    admin = logged_in(app, ADMIN)
    dead_letter(app)
    for path in post_paths(accounts):
        assert admin.post(path, data={"role": "admin", "email": "x@example.org"}).status_code == (
            400
        ), path
    organizer = user(app, accounts["organizer"])
    assert organizer.active and organizer.role == "organizer"
    with app.app_context():
        assert db.session.scalar(select(OutboxEmail.status)) == MailStatus.DEAD
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 2


def test_only_admins_see_the_admin_link(app, accounts):
    admin_link = '<a href="/admin/users">Admin</a>'
    assert admin_link in logged_in(app, ADMIN).get("/organize/").text
    assert admin_link not in logged_in(app, ORGANIZER).get("/organize/").text


def test_an_invited_user_chooses_their_password_through_the_emailed_link(app, accounts, outbox_dir):
    admin = logged_in(app, ADMIN)
    form = admin.get("/admin/users/new")
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "New.Organizer@Example.org",
            "name": "Fatima Diallo",
            "role": "organizer",
            "csrf_token": csrf_token(form.text),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "new.organizer@example.org" in admin.get("/admin/users").text
    with app.app_context():
        (message,) = deliver_and_read(outbox_dir)
    assert message["To"] == "new.organizer@example.org"
    assert "invited" in message["Subject"]
    body = text_of(message)
    assert "Hello Fatima Diallo" in body and "organizer account" in body
    link = next(line for line in body.splitlines() if "/password/reset/" in line)
    path = link.strip().removeprefix("http://pledges.test")

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    password = "my own words for my own account"
    newcomer.post(
        path, data={"password": password, "confirm": password, "csrf_token": csrf_token(page.text)}
    )
    assert newcomer.get("/organize/").status_code == 200
    assert newcomer.get(path).status_code == 404  # the link worked once
    assert log_in(app.test_client(), "new.organizer@example.org", password).status_code == 302
    assert audit_actions(app)[-3:] == ["user.create", "user.invite", "user.password_reset"]
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "user.create")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        assert entry.actor == ADMIN
        assert entry.details == {"email": "new.organizer@example.org", "role": "organizer"}


def test_the_invitation_is_written_in_the_invitees_language(app, accounts, outbox_dir):
    admin = logged_in(app, ADMIN)
    form = admin.get("/admin/users/new")
    # The admin's own language is the default; each is named in itself.
    assert '<option selected value="en">English</option>' in form.text
    assert '<option value="fr">Français</option>' in form.text
    data = {"email": "aline@example.org", "name": "Aline Ndayishimiye", "role": "organizer"}
    refused = admin.post(
        "/admin/users/new", data={**data, "language": "xx", "csrf_token": csrf_token(form.text)}
    )
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "aline@example.org")) is None

    admin.post(
        "/admin/users/new", data={**data, "language": "fr", "csrf_token": csrf_token(form.text)}
    )
    with app.app_context():
        (message,) = deliver_and_read(outbox_dir)
        invited = db.session.scalar(select(User).where(User.email == "aline@example.org"))
        assert invited.locale == "fr"
    assert message["Subject"] == "Vous êtes invité·e à organiser des engagements sur Joining Forces"
    assert "Bonjour Aline Ndayishimiye" in text_of(message)

    # Sent again from the admin's English pages, it is still in French.
    post_with_token(admin, f"/admin/users/{invited.id}/invite")
    with app.app_context():
        (again,) = deliver_and_read(outbox_dir)[1:]
    assert again["Subject"] == message["Subject"]

    # Logging in in another language makes that theirs.
    with app.app_context():
        organizer = db.session.get(User, accounts["organizer"])
        assert organizer.locale != "es"
    client = app.test_client()
    client.get("/?lang=es")  # the choice is remembered in a cookie
    assert log_in(client, ORGANIZER).status_code == 302
    assert user(app, accounts["organizer"]).locale == "es"


def test_inviting_an_existing_address_says_so(app, accounts):
    admin = logged_in(app, ADMIN)
    form = admin.get("/admin/users/new")
    response = admin.post(
        "/admin/users/new",
        data={"email": ORGANIZER, "name": "", "role": "admin", "csrf_token": csrf_token(form.text)},
    )
    assert response.status_code == 422
    assert "already an account" in response.text


def test_deactivating_ends_every_session_and_reactivating_lets_them_back(app, accounts):
    organizer = logged_in(app, ORGANIZER)
    assert organizer.get("/organize/").status_code == 200
    admin = logged_in(app, ADMIN)
    organizer_id = accounts["organizer"]
    response = post_with_token(admin, f"/admin/users/{organizer_id}/deactivate")
    assert response.status_code == 302
    assert not user(app, organizer_id).active
    assert organizer.get("/organize/").status_code == 302  # logged out at once
    assert log_in(app.test_client(), ORGANIZER).status_code == 422
    post_with_token(admin, f"/admin/users/{organizer_id}/reactivate")
    assert user(app, organizer_id).active
    assert log_in(app.test_client(), ORGANIZER).status_code == 302
    assert audit_actions(app)[-2:] == ["user.deactivate", "user.reactivate"]


def test_admins_cannot_deactivate_or_demote_themselves(app, accounts):
    admin = logged_in(app, ADMIN)
    me = accounts["admin"]
    response = post_with_token(admin, f"/admin/users/{me}/deactivate")
    assert response.status_code == 302
    assert "can&#39;t deactivate your own account" in admin.get("/admin/users").text
    post_with_token(admin, f"/admin/users/{me}/role", role="organizer")
    found = user(app, me)
    assert found.active and found.role == "admin"
    assert admin.get("/admin/users").status_code == 200  # still logged in, still admin
    assert "user.deactivate" not in audit_actions(app)


def test_changing_a_role_is_audited(app, accounts):
    admin = logged_in(app, ADMIN)
    organizer_id = accounts["organizer"]
    post_with_token(admin, f"/admin/users/{organizer_id}/role", role="admin")
    assert user(app, organizer_id).role == "admin"
    post_with_token(admin, f"/admin/users/{organizer_id}/role", role="superuser")
    assert user(app, organizer_id).role == "admin"
    with app.app_context():
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.role"))
        assert entry.details == {"email": ORGANIZER, "from": "organizer", "to": "admin"}
        assert entry.target_id == organizer_id and entry.actor == ADMIN


def test_a_new_invitation_goes_only_to_someone_who_never_logged_in(app, accounts, outbox_dir):
    admin = logged_in(app, ADMIN)
    logged_in(app, ORGANIZER)
    with app.app_context():
        invited = make_user("invited@example.org").id
    post_with_token(admin, f"/admin/users/{invited}/invite")
    post_with_token(admin, f"/admin/users/{accounts['organizer']}/invite")  # has logged in
    with app.app_context():
        messages = deliver_and_read(outbox_dir)
    assert [m["To"] for m in messages] == ["invited@example.org"]


def test_dead_letters_are_masked_and_can_be_queued_again(app, accounts):
    message_id = dead_letter(app)
    admin = logged_in(app, ADMIN)
    page = admin.get("/admin/mail").text
    assert "a…@example.org" in page
    assert "amina.wanjiru" not in page  # neither in the To column nor in the error
    assert "juma.baraka" not in page  # nor any other address the server quoted
    assert "mailbox unavailable" in page
    token = csrf_token(page)
    response = admin.post("/admin/mail/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert "1 message queued again" in admin.get("/admin/mail").text
    with app.app_context():
        row = db.session.get(OutboxEmail, message_id)
        assert (row.status, row.attempts) == (MailStatus.PENDING, 0)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.retry_dead"))
        assert entry.details == {"messages": 1} and entry.actor == ADMIN
