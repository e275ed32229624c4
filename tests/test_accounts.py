"""Organizer accounts: creating them, logging in and out, lock-out, resets, sessions ending."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from pledges.accounts.passwords import verify_password
from pledges.accounts.service import AccountError, create_user, reset_token
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import NAME_MAX, AuditEntry, OutboxEmail, User, UserSession
from tests.factories import PASSWORD, make_pledge, make_user, run_by
from tests.helpers import csrf_token, deliver_and_read, known_to_unknown_time_ratio, log_in, text_of

ADMIN = "admin@example.org"
INVITEE = "invitee@example.org"


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_create_user_cli_prompts_for_a_password_and_stores_only_a_hash(app, runner):
    result = runner.invoke(
        args=["create-user", "Organizer@Example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.email, user.role) == ("organizer@example.org", "admin")
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
        assert db.session.scalar(db.select(AuditEntry.action)) == "user.create"


def test_create_user_from_stdin_refuses_weak_passwords_and_duplicates(app, runner):
    weak = runner.invoke(args=["create-user", "a@example.org", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 12 characters" in weak.output
    ok = runner.invoke(args=["create-user", "a@example.org", "--password-stdin"], input=PASSWORD)
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(args=["create-user", "a@example.org", "--password-stdin"], input=PASSWORD)
    assert again.exit_code != 0 and "already an account" in again.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_organizer_pages_need_a_login(app, client):
    response = client.get("/organize/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_shows_only_the_pledges_you_run_and_logout_ends_it(app, client):
    with app.app_context():
        mine = run_by(make_pledge(title="Mine to run"), make_user("me@example.org"))
        make_pledge(title="Someone else's")
        assert mine
    response = log_in(client, "ME@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/organize/"
    page = client.get("/organize/").text
    assert "Mine to run" in page and "Someone else&#39;s" not in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/organize/").status_code == 302


def test_admins_see_every_pledge(app, client):
    with app.app_context():
        make_pledge(title="Anyone's pledge")
        make_user("admin@example.org", role="admin")
    log_in(client, "admin@example.org")
    assert "Anyone&#39;s pledge" in client.get("/organize/").text


def test_wrong_password_and_unknown_address_get_the_same_answer(app, client):
    with app.app_context():
        make_user("me@example.org")
    wrong = log_in(client, "me@example.org", "not the password at all")
    unknown = log_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 422
    message = "That email address and password don&#39;t match an active account."
    assert message in wrong.text and message in unknown.text


def test_login_redirects_only_within_the_site(app, client):
    with app.app_context():
        make_user("me@example.org")
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "me@example.org", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/organize/"
    # Not even a URL (unbalanced brackets): the organizer's home, not an error.
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/organize/").text)})
    page = client.get("/login?next=//[")
    response = client.post(
        "/login?next=//[",
        data={"email": "me@example.org", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/organize/"


@pytest.mark.config(LOGIN_FAILURES_BEFORE_LOCKOUT="3 per 15 minutes")
def test_repeated_failures_lock_the_account_even_for_the_right_password(app, client):
    with app.app_context():
        make_user("me@example.org")
    for _ in range(2):
        assert "don&#39;t match" in log_in(client, "me@example.org", "wrong password 123").text
    third = log_in(client, "me@example.org", "wrong password 123")
    assert "locked for 15 minutes" in third.text
    right = log_in(client, "me@example.org", PASSWORD)
    assert right.status_code == 422 and "locked for" in right.text
    assert client.get("/organize/").status_code == 302
    # An address without an account locks the same way: nothing tells a guesser apart.
    for _ in range(3):
        unknown = log_in(client, "nobody@example.org", "wrong password 123")
    assert "locked for 15 minutes" in unknown.text


@pytest.mark.config(RATELIMIT_ENABLED=False, LOGIN_FAILURES_BEFORE_LOCKOUT="2 per 15 minutes")
def test_lockout_holds_when_rate_limits_are_switched_off(app, client):
    with app.app_context():
        make_user("me@example.org")
    assert log_in(client, "me@example.org").status_code == 302
    client = app.test_client()
    for _ in range(2):
        log_in(client, "me@example.org", "wrong password 123")
    assert "locked for" in log_in(client, "me@example.org").text


@pytest.mark.config(LOGIN_LIMIT_PER_IP="2 per minute")
def test_login_attempts_are_rate_limited_per_address(app, client):
    for _ in range(2):
        assert log_in(client, "x@example.org", "wrong password 123").status_code == 422
    assert log_in(client, "x@example.org", "wrong password 123").status_code == 429


def test_login_form_needs_its_csrf_token(app, client):
    with app.app_context():
        make_user("me@example.org")
    response = client.post("/login", data={"email": "me@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/organize/").status_code == 302


def test_password_reset_by_email_works_once_and_ends_other_sessions(app, client, outbox_dir):
    with app.app_context():
        make_user("me@example.org")
    other_device = app.test_client()
    log_in(other_device, "me@example.org")
    assert other_device.get("/organize/").status_code == 200

    page = client.get("/password/forgot")
    client.post(
        "/password/forgot",
        data={"email": "me@example.org", "csrf_token": csrf_token(page.text)},
    )
    with app.app_context():
        (message,) = deliver_and_read(outbox_dir)
    assert message["To"] == "me@example.org"
    link = next(line for line in text_of(message).splitlines() if "/password/reset/" in line)
    path = link.strip().removeprefix("http://pledges.test")

    form = client.get(path)
    new_password = "a whole new set of words"
    response = client.post(
        path,
        data={
            "password": new_password,
            "confirm": new_password,
            "csrf_token": csrf_token(form.text),
        },
    )
    assert response.status_code == 302
    assert client.get("/organize/").status_code == 200
    assert other_device.get("/organize/").status_code == 302  # that session has ended
    assert client.get(path).status_code == 404  # the link worked once
    assert log_in(app.test_client(), "me@example.org", PASSWORD).status_code == 422
    assert log_in(app.test_client(), "me@example.org", new_password).status_code == 302


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(app, client, outbox_dir):
    page = client.get("/password/forgot")
    response = client.post(
        "/password/forgot",
        data={"email": "nobody@example.org", "csrf_token": csrf_token(page.text)},
    )
    assert "If <bdi>nobody@example.org</bdi> belongs to an organizer account" in response.text
    with app.app_context():
        assert deliver_and_read(outbox_dir) == []


@pytest.mark.config(SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=8)
def test_sessions_end_when_idle_and_at_the_latest_after_the_maximum(app):
    with app.app_context():
        make_user("me@example.org")
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = app.test_client()
        log_in(client, "me@example.org")
        clock.shift(timedelta(minutes=29))
        assert client.get("/organize/").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert client.get("/organize/").status_code == 302  # idle too long

        client = app.test_client()
        log_in(client, "me@example.org")
        for _ in range(17):  # busy all day, never idle for 30 minutes
            clock.shift(timedelta(minutes=29))
            client.get("/organize/")
        assert client.get("/organize/").status_code == 302  # past 8 hours


def test_deactivated_accounts_lose_their_sessions(app, client):
    with app.app_context():
        user = make_user("me@example.org")
        user_id = user.id
    log_in(client, "me@example.org")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/organize/").status_code == 302


# --- invitations, create-user input, ending other sessions, current-password guesses --------


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


def test_a_cookie_saved_before_logout_opens_nothing_after_it(app, client):
    with app.app_context():
        user = make_user("me@example.org")
        pledge = run_by(make_pledge(), user)
        export = f"/organize/{pledge.slug}/export"
    log_in(client, "me@example.org")
    assert client.get(export).status_code == 200
    saved = client.get_cookie("session").value

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/organize/").text)})
    replay = app.test_client()  # another browser, or another host behind the balancer
    replay.set_cookie("session", saved)
    response = replay.get(export)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 0


def test_log_out_everywhere_ends_the_other_browsers_and_keeps_this_one(app, client):
    with app.app_context():
        make_user("me@example.org")
    other = app.test_client()
    log_in(other, "me@example.org")
    log_in(client, "me@example.org")
    page = client.get("/account")
    client.post("/account/sessions", data={"csrf_token": csrf_token(page.text)})
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    with app.app_context():  # only this browser's session is stored, and only as a hash
        (stored,) = db.session.scalars(db.select(UserSession)).all()
        assert stored.secret_hash != client.get_cookie("session").value
        assert len(stored.secret_hash) == 64


@pytest.mark.config(LOGIN_LIMIT_PER_IP="1000 per minute")
def test_a_reset_request_takes_as_long_for_an_unknown_address_as_for_a_known_one(app, client):
    with app.app_context():
        make_user("me@example.org")
    token = csrf_token(client.get("/password/forgot").text)
    ratio = known_to_unknown_time_ratio(
        client, "/password/forgot", token, "me@example.org", "nobody@example.org"
    )
    # Before, a known address took about half again as long (its email rendered and queued).
    assert 0.8 < ratio < 1.25, ratio
    with app.app_context():  # and only the real account got mail
        addresses = db.session.scalars(db.select(OutboxEmail.to_address)).all()
        assert set(addresses) == {"me@example.org"}
