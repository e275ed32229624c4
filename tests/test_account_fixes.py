"""Accounts: an invitee's first login counts, create-user checks its input, ending other
sessions is audited, and guesses at the current password lock out like failed logins."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pledges.accounts.passwords import verify_password
from pledges.accounts.service import AccountError, create_user, reset_token
from pledges.extensions import db
from pledges.models import NAME_MAX, AuditEntry, User
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token, log_in

ADMIN = "admin@example.org"
INVITEE = "invitee@example.org"


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_an_invitee_who_sets_their_password_counts_as_logged_in(app, outbox_dir):
    with app.app_context():
        make_user(ADMIN, role="admin")
        invitee = make_user(INVITEE)
        invitee_id, token = invitee.id, reset_token(invitee)
    newcomer = app.test_client()
    newcomer.get("/?lang=fr")  # the language they chose on the site
    path = f"/password/reset/{token}"
    page = newcomer.get(path)
    password = "my own words for my own account"
    response = newcomer.post(
        path, data={"password": password, "confirm": password, "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    with app.app_context():
        found = db.session.get(User, invitee_id)
        assert found.last_login_at is not None and found.locale == "fr"

    admin = app.test_client()
    log_in(admin, ADMIN)
    users_page = admin.get("/admin/users").text
    assert "Invited, never logged in" not in users_page
    assert "Send a new invitation" not in users_page
    admin.post(f"/admin/users/{invitee_id}/invite", data={"csrf_token": csrf_token(users_page)})
    assert "has logged in already" in admin.get("/admin/users").text
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action))
        assert "user.invite" not in actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a b@"], "Enter a valid email address."),
        (["@"], "Enter a valid email address."),
        (["x y@z"], "Enter a valid email address."),
        (["someone@example"], "Enter a valid email address."),
        ([f"{'a' * 250}@example.org"], "Enter a valid email address."),
        (["me@example.org", "--name", "n" * 5000], f"Keep the name under {NAME_MAX} characters."),
        (["me@example.org", "--name", "Bell\x07 Hooks"], "Remove the invisible control"),
        (["me@example.org", "--name", "Nul\x00l"], "Remove the invisible control"),
    ],
)
def test_create_user_refuses_bad_input_with_one_clear_line(app, runner, args, message):
    result = runner.invoke(args=["create-user", *args, "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a traceback
    assert result.output.startswith("Error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert user_count(app) == 0


def test_create_user_keeps_a_tidy_name_and_the_invite_form_still_works(app, runner, client):
    result = runner.invoke(
        args=["create-user", "Me@Example.org", "--name", "  Fatima   Diallo ", "--password-stdin"],
        input=PASSWORD,
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = db.session.scalar(select(User))
        assert (created.email, created.name) == ("me@example.org", "Fatima Diallo")
        with pytest.raises(AccountError) as refused:
            create_user("other@example.org", PASSWORD, name="x" * (NAME_MAX + 1))
        assert refused.value.field == "name"
        make_user(ADMIN, role="admin")

    log_in(client, ADMIN)
    form = client.get("/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "aline@example.org",
            "name": "A" * NAME_MAX,
            "role": "organizer",
            "language": "en",
            "csrf_token": csrf_token(form.text),
        },
    )
    assert response.status_code == 302
    assert user_count(app) == 3


def test_logging_out_everywhere_else_is_audited(app, client):
    with app.app_context():
        me = make_user("me@example.org").id
    log_in(client, "me@example.org")
    page = client.get("/account").text
    token = csrf_token(page.split('action="/account/sessions"')[1])
    response = client.post("/account/sessions", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "user.sessions_end")
        )
        assert entry is not None
        assert (entry.actor, entry.target_type, entry.target_id) == ("me@example.org", "users", me)


@pytest.mark.config(LOGIN_FAILURES_BEFORE_LOCKOUT="3 per 15 minutes")
def test_guesses_at_the_current_password_lock_the_account(app, client):
    with app.app_context():
        me = make_user("me@example.org").id
    log_in(client, "me@example.org")
    new_password = "a whole new set of words"

    def change(current: str):
        page = client.get("/account").text
        return client.post(
            "/account",
            data={
                "current": current,
                "password": new_password,
                "confirm": new_password,
                "csrf_token": csrf_token(page),
            },
        )

    for _ in range(2):
        wrong = change("a guess at the password")
        assert wrong.status_code == 422 and "That is not your current password." in wrong.text
    third = change("a guess at the password")
    assert third.status_code == 422 and "locked for 15 minutes" in third.text
    right = change(PASSWORD)
    assert right.status_code == 422 and "locked for 15 minutes" in right.text
    with app.app_context():
        assert verify_password(db.session.get(User, me).password_hash, PASSWORD)
