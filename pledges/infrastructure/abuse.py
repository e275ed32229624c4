"""Abuse protection, modelled on the UK Parliament petitions site.

- Rate limits (Flask-Limiter; shared through Redis when REDIS_URL is set) on signing,
  per IP address and per email domain, on confirming, and on the API. Big webmail
  providers are exempt from the per-domain limit: thousands of real people share them.
- A honeypot field on the sign form (in signing/forms.py): people never see it; bots fill it.
- A maintained list of disposable email domains (the disposable-email-domains package):
  an address that expires could never confirm, manage or withdraw its signature.
- IP addresses are never stored, only an HMAC of them (for moderators to spot floods),
  and even that is dropped after IP_HASH_RETENTION_DAYS.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from disposable_email_domains import blocklist
from flask import current_app, request
from sqlalchemy import update

from pledges.extensions import db, limiter
from pledges.infrastructure.database import utcnow
from pledges.models import Report, Signature


def configured(setting: str) -> Callable[[], str]:
    """A limit read from the settings at request time, so tests and operators can tune it."""
    return lambda: current_app.config[setting]


def submitted_email_domain() -> str:
    """Key for the per-domain signing limit: the domain of the address in the form."""
    address = (request.form.get("email") or "").strip().lower()
    return address.rpartition("@")[2] or "-"


def domain_is_exempt() -> bool:
    exempt = {
        d.strip().lower()
        for d in current_app.config["SIGN_LIMIT_EXEMPT_DOMAINS"].split(",")
        if d.strip()
    }
    return submitted_email_domain() in exempt


def limit_signing(view):
    """Per IP address and per email domain, counting submissions (not page views)."""
    view = limiter.limit(configured("SIGN_LIMIT_PER_IP"), methods=["POST"], scope="sign-ip")(view)
    return limiter.limit(
        configured("SIGN_LIMIT_PER_DOMAIN"),
        methods=["POST"],
        key_func=submitted_email_domain,
        exempt_when=domain_is_exempt,
        scope="sign-domain",
    )(view)


def limit_confirming(view):
    return limiter.limit(configured("CONFIRM_LIMIT_PER_IP"), methods=["POST"], scope="confirm")(
        view
    )


def limit_pdf_rendering(view):
    """Signed pledge PDFs: each costs real CPU, so a token cannot be used to flood it."""
    return limiter.limit(configured("PDF_LIMIT_PER_IP"), scope="pdf")(view)


def limit_verifying(view):
    """Verification pages and uploads, signature and dossier codes alike."""
    return limiter.limit(configured("VERIFY_LIMIT_PER_IP"), scope="verify")(view)


def _private_link_key() -> str:
    """Key for limits per signer: a hash of the private link's token (the rate-limit
    storage never holds a working link)."""
    token = (request.view_args or {}).get("token") or ""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def limit_action_posts(view):
    """Actions logged, edited or deleted through one private link, counted together:
    each one is stored, tallied and printed in the signed PDF."""
    return limiter.shared_limit(
        configured("ACTION_LIMIT_PER_TOKEN"),
        scope="action-token",
        key_func=_private_link_key,
        methods=["POST"],
    )(view)


def limit_api(blueprint) -> None:
    limiter.limit(configured("API_LIMIT_PER_IP"), scope="api")(blueprint)


def is_disposable(domain: str) -> bool:
    """True for a throwaway-address domain or any subdomain of one."""
    labels = domain.lower().split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def hash_ip(address: str | None) -> str | None:
    if not address:
        return None
    return hmac.new(
        _ip_key(current_app.config["SECRET_KEY"]), address.encode(), "sha256"
    ).hexdigest()


@cache
def _ip_key(secret_key: str) -> bytes:
    # Derived, so the hashes cannot be matched with anything else keyed on SECRET_KEY.
    return hmac.new(secret_key.encode(), b"pledges ip hash", hashlib.sha256).digest()


def purge_ip_hashes() -> int:
    """Forget the IP hashes of signatures and of reports older than the retention period.

    Returns how many were forgotten; the caller commits, then checkpoints.
    """
    cutoff = utcnow() - timedelta(days=current_app.config["IP_HASH_RETENTION_DAYS"])
    forgotten = 0
    for model, timestamp in ((Signature, Signature.signed_at), (Report, Report.created_at)):
        result = db.session.execute(
            update(model)
            .where(model.ip_hash.is_not(None), timestamp < cutoff)
            .values(ip_hash=None)
            .execution_options(synchronize_session=False)
        )
        forgotten += result.rowcount
    return forgotten
