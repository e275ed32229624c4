"""What admins do to accounts, the outbox and failed jobs; each act is audited in its
transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from pledges.accounts import service as accounts
from pledges.accounts.passwords import check_new_password
from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.infrastructure import audit, jobs
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.urls import external_url
from pledges.mail import delivery
from pledges.mail.outbox import queue_email
from pledges.models import OutboxEmail, User, UserRole


class AdminError(RuleError):
    pass


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def invite_user(email: str, name: str, role: str, locale: str | None = None) -> User:
    """Create an account nobody can log in to yet, and email its owner a link to choose
    their password (the password-reset link, worded as an invitation), in ``locale``."""
    user = accounts.create_user(email, _placeholder_password(email), role=role, name=name)
    user.locale = locale
    send_invitation(user)
    return user


def send_invitation(user: User) -> None:
    """The invitation, in the invitee's language where one is known, else the admin's."""
    with signer_language(user.locale):
        queue_email(
            user.email,
            gettext("You are invited to organize pledges on Joining Forces"),
            "invitation",
            user=user,
            role=user.role,
            set_password_url=external_url(
                "accounts.reset_password", token=accounts.reset_token(user)
            ),
            forgot_url=external_url("accounts.forgot_password"),
            hours=current_app.config["PASSWORD_RESET_HOURS"],
        )
    audit.record("user.invite", target=user, details={"email": user.email})


def resend_invitation(user: User) -> None:
    if not user.active:
        raise AdminError(gettext("Reactivate the account before inviting its owner again."))
    if user.last_login_at is not None:
        raise AdminError(
            gettext(
                "%(email)s has logged in already: they can reset their password.",
                email=user.email,
            )
        )
    send_invitation(user)


def _placeholder_password(email: str) -> str:
    """A password nobody knows, that still passes the rules for passwords: the account
    stays closed until its owner chooses one through the link."""
    while True:
        password = secrets.token_urlsafe(48)
        try:
            check_new_password(password, email)
        except RuleError:
            continue
        return password


def _not_yourself(user: User, acting: User, message: str) -> None:
    if user.id == acting.id:
        raise AdminError(message)


def deactivate(user: User, acting: User) -> None:
    """Close the account and end every session of it at once."""
    _not_yourself(
        user, acting, gettext("You can't deactivate your own account: ask another admin.")
    )
    if not user.active:
        return
    user.active = False
    accounts.end_sessions(user)
    audit.record("user.deactivate", target=user, details={"email": user.email})


def reactivate(user: User) -> None:
    if user.active:
        return
    user.active = True
    audit.record("user.reactivate", target=user, details={"email": user.email})


def change_role(user: User, role: str, acting: User) -> None:
    _not_yourself(
        user, acting, gettext("You can't change the role of your own account: ask another admin.")
    )
    if role not in set(UserRole):
        raise AdminError(
            gettext("Role must be one of: %(roles)s.", roles=", ".join(UserRole)), field="role"
        )
    if user.role == role:
        return
    audit.record(
        "user.role", target=user, details={"email": user.email, "from": user.role, "to": role}
    )
    user.role = role


@dataclass(frozen=True)
class DeadLetter:
    """A message given up on, as admins see it: the recipient masked, as the CLI shows it."""

    id: int
    to: str
    subject: str
    attempts: int
    created_at: object
    last_error: str


def outbox() -> tuple[dict[str, int], list[DeadLetter]]:
    status = delivery.outbox_status()
    return status.counts, [_dead_letter(row) for row in status.dead]


def _dead_letter(row: OutboxEmail) -> DeadLetter:
    masked = delivery.masked(row.to_address)
    # Mail servers quote addresses in their errors (the recipient's, a forwarding one):
    # mask every one there too.
    error = delivery.mask_addresses(row.last_error or "")
    return DeadLetter(row.id, masked, row.subject, row.attempts, row.created_at, error)


def retry_dead_mail() -> int:
    """What ``pledges mail-status --retry-dead`` does, audited."""
    count = delivery.retry_dead()
    audit.record("mail.retry_dead", details={"messages": count})
    return count


@dataclass(frozen=True)
class FailedJobView:
    """A failed job as admins see it: what it was for, when and why it failed (any email
    address in the error masked); never its arguments."""

    id: str
    label: str
    error: str
    failed_at: object


def job_queue() -> tuple[dict[str, int], list[FailedJobView]] | None:
    """Counts per registry and the latest failed jobs; None when jobs run in-process."""
    if jobs.backend() != jobs.RQ:
        return None
    overview = jobs.overview()
    failed = [
        FailedJobView(job.id, job.label, delivery.mask_addresses(job.error), job.failed_at)
        for job in overview.failed
    ]
    return overview.counts, failed


def retry_job(job_id: str) -> bool:
    """Put a failed job back on the queue, audited; False if there is no such failed job."""
    if jobs.backend() != jobs.RQ or not jobs.retry_failed(job_id):
        return False
    audit.record("job.retry", details={"job": job_id})
    return True
