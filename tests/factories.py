"""Small builders for the records tests need, through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import timedelta

from pledges.actions.service import ActionInput, log_action
from pledges.domain.signers import normalize_email
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Commitment, Pledge, PledgeStatus
from pledges.organize import service as builder
from pledges.signing import service
from pledges.signing.service import SignatureInput

FRENCH_COMMITMENTS = [
    "J'écouterai d'abord les femmes artisanes de paix.",
    "Je remettrai en cause les idées violentes de la masculinité.",
    "Je participerai aux dialogues à chaque cycle.",
]


_counter = itertools.count(1)


def make_pledge(
    slug: str | None = None,
    status: PledgeStatus = PledgeStatus.OPEN,
    commitments: list[tuple[str, bool]] | None = None,
    goal: int | None = 100,
    title: str | None = None,
) -> Pledge:
    n = next(_counter)
    commitments = commitments or [
        ("I will listen to women peacebuilders first.", True),
        ("I will challenge violent ideas of masculinity.", False),
        ("I will join dialogues in cycles.", False),
    ]
    pledge = Pledge(
        slug=slug or f"pledge-{n}",
        title=title or f"Allies for peace {n}",
        preamble="Men and women, together.\n\nWithout paternalism.",
        guidelines="Choose what you can keep.",
        status=status,
        goal=goal,
        checkin_cadence_days=30,
        opened_at=utcnow() - timedelta(days=1),
        commitments=[
            Commitment(position=i, text=text, required=required)
            for i, (text, required) in enumerate(commitments, start=1)
        ],
    )
    db.session.add(pledge)
    db.session.commit()
    return pledge


def signature_input(pledge: Pledge, **overrides) -> SignatureInput:
    n = next(_counter)
    values = {
        "name": f"Amina Odhiambo {n}",
        "email": f"signer{n}@example.org",
        "country": "KE",
        "role": "woman",
        "organization": "",
        "visibility": "full",
        "commitment_ids": tuple(c.id for c in pledge.commitments if c.required),
        "personal_note": "",
    }
    values.update(overrides)
    return SignatureInput(**values)


def confirmed_signature(pledge: Pledge, **overrides):
    """Sign through the service and confirm, as a signer clicking their email would."""
    data = signature_input(pledge, **overrides)
    service.sign(pledge, data)
    db.session.commit()
    signature = service._signature_by_email(pledge, normalize_email(data.email))
    service.confirm(signature)
    db.session.commit()
    return signature


PASSWORD = "correct horse battery staple"


def make_user(email: str | None = None, role: str = "organizer", password: str = PASSWORD):
    """An organizer (or admin) account, through the same service as `pledges create-user`."""
    from pledges.accounts.service import create_user

    user = create_user(email or f"organizer{next(_counter)}@example.org", password, role=role)
    db.session.commit()
    return user


def run_by(pledge: Pledge, user) -> Pledge:
    """Make ``user`` an organizer of ``pledge``."""
    from pledges.models import PledgeOrganizer

    db.session.add(PledgeOrganizer(pledge_id=pledge.id, user_id=user.id))
    db.session.commit()
    return pledge


def translate(pledge: Pledge, locale: str, title: str, preamble: str, commitments: list[str]):
    """Save a translation of ``pledge`` and its commitments, as its organizer would."""
    builder.save_translation(
        pledge,
        builder.TranslationInput(
            locale=locale,
            title=title,
            preamble=preamble,
            guidelines="",
            commitments={
                c.id: text for c, text in zip(pledge.commitments, commitments, strict=True)
            },
        ),
    )
    db.session.commit()


def french_pledge() -> Pledge:
    """A pledge with a French translation ("Alliés pour la paix")."""
    pledge = make_pledge()
    translate(
        pledge, "fr", "Alliés pour la paix", "Hommes et femmes, ensemble.", FRENCH_COMMITMENTS
    )
    return pledge


def logged_action(
    signature, people: int | None = None, description: str = "Spoke at the district peace committee"
):
    """A public action yesterday against the signer's first commitment, through the service
    (not committed)."""
    return log_action(
        signature,
        ActionInput(
            commitment_id=signature.pledge.commitments[0].id,
            kind="advocacy",
            done_on=utcnow().date() - timedelta(days=1),
            description=description,
            people_reached=people,
            evidence_url=None,
            visibility="public",
        ),
    )
