"""Demo content grounded in the 2011 dialogue "Joining Forces: Engaging men as allies in
gender-sensitive peacebuilding" (IFOR Women Peacemakers Program and New Tactics)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import timedelta

from faker import Faker
from sqlalchemy import select

from pledges.domain import transitions
from pledges.domain.cycles import pledge_cadence
from pledges.extensions import db
from pledges.infrastructure.database import bulk_insert, bulk_insert_returning_ids, utcnow
from pledges.infrastructure.security import new_verification_code
from pledges.models import (
    Action,
    AllyRole,
    Commitment,
    Organization,
    Pledge,
    PledgeStatus,
    Signature,
    SignatureCommitment,
    SignatureStatus,
    Visibility,
    new_public_id,
)

DEMO_SLUG = "joining-forces"

PREAMBLE = """\
Violence and war are shaped by the roles men and women are raised into. Peacebuilding and \
ending violence affect us all as people formed by those roles, so we cannot do this work \
as women alone or as men alone: we do it as allies.

We reject the idea that masculinity means dominance, control and violence. Men gain from \
this too, for the same hierarchies that harm women harm men's lives with one another. Men \
who hold positions in patriarchal institutions can help change them from within; women's \
experience and leadership guide that change.

Our engagement is not charity and it is not paternalism. It is collaboration: listening, \
respect, patience and dialogue, sustained over time. By signing, we make written \
commitments that others can hold us to, and that we can use to demand change."""

GUIDELINES = """\
Choose commitments you can actually keep over the coming months; two kept are worth more \
than eight forgotten. The first two are the heart of the pledge and are part of every \
signature.

"Ally" here means working with women peacebuilders, not on their behalf: listen first, \
follow their lead on what they need, and do not speak for them.

Commitment fades unless it is renewed. Return to your private page each month to look \
at what you committed to, and talk it over with a woman peacebuilder you work with: \
accountability between allies is part of the pledge.

You decide how you appear on the public wall. Where being named is dangerous, sign \
anonymously: only your country is shown."""

COMMITMENTS = [
    (
        "I will work with women peacebuilders as an ally: listening first, collaborating "
        "rather than leading, and never speaking for them.",
        True,
    ),
    (
        "I will challenge the idea that masculinity means dominance, control or violence, "
        "in myself first and then in the people around me.",
        True,
    ),
    (
        "I will recognise the privileges and power I hold, and give up those that harm "
        "women and men.",
        False,
    ),
    (
        "I will take part in gender-sensitive training in cycles, not as a single event, and "
        "check in on this pledge each cycle.",
        False,
    ),
    (
        "I will join or host face-to-face dialogues where men can talk honestly about "
        "masculinity in a safe space.",
        False,
    ),
    (
        "I will use written pledges and documentation to ask leaders and institutions for "
        "concrete change.",
        False,
    ),
    (
        "I will network with other ally organizations and share what works, so our efforts last.",
        False,
    ),
    (
        "I will stand with women and men in my community to resist violence and militarisation.",
        False,
    ),
]

ORGANIZATIONS = [
    (
        "womens-peacemakers-program",
        "Women Peacemakers Program",
        "NL",
        "IFOR's programme supporting women peacemakers and gender-sensitive active nonviolence.",
    ),
    (
        "chemchemi-ya-ukweli",
        "Chemchemi Ya Ukweli",
        "KE",
        "Kenyan network for active nonviolence and reconciliation.",
    ),
    (
        "just-peace-international",
        "Just Peace International",
        "PK",
        "Restorative justice and peacebuilding with communities in Pakistan.",
    ),
    (
        "fountain-isoko",
        "Fountain-ISOKO for Good Governance",
        "BI",
        "Good governance and integrated development in Burundi.",
    ),
    ("emancipator", "eMANcipator", "NL", "Generating positive masculinities."),
    (
        "mens-resources-international",
        "Men's Resources International",
        "US",
        "Engaging men as allies to end violence and promote gender equality.",
    ),
]

# Countries of the dialogue's participants and beyond, weighted, with Faker locales for names.
COUNTRIES = [
    ("KE", "en_KE", 14),
    ("PK", "en_PK", 12),
    ("LK", "si_LK", 8),
    ("BI", "fr_FR", 6),
    ("NL", "nl_NL", 7),
    ("US", "en_US", 6),
    ("IN", "en_IN", 8),
    ("NG", "en_NG", 7),
    ("CO", "es_CO", 6),
    ("TZ", "sw", 5),
    ("ZA", "zu_ZA", 5),
    ("NP", "ne_NP", 3),
    ("PS", "ar_PS", 4),
    ("GH", "tw_GH", 3),
    ("FR", "fr_FR", 3),
    ("MX", "es_MX", 3),
]
ROLES = [(AllyRole.MAN, 55), (AllyRole.WOMAN, 35), (AllyRole.OTHER, 3), (AllyRole.UNDISCLOSED, 7)]
VISIBILITIES = [
    (Visibility.FULL, 35),
    (Visibility.INITIAL, 35),
    (Visibility.ORGANIZATION, 10),
    (Visibility.ANONYMOUS, 20),
]
NOTES = [
    "Because my daughters deserve a safer country than the one I grew up in.",
    "Peace starts at home, in how we raise our sons.",
    "I sign as a woman peacebuilder who wants men beside us, not in front of us.",
    "Our training ended, but the work should not. This keeps me honest.",
    "I have benefited from privilege for too long without questioning it.",
    "Dialogue changed me. I want to open that space for other men.",
    "For the women of my village who rebuilt everything after the war.",
    "Masculinity does not have to mean violence. I am learning that every day.",
]
ACTIONS = [
    (
        "conversation",
        "Held a dialogue with young men in my neighbourhood about masculinity and violence.",
    ),
    (
        "training",
        "Co-facilitated a gender-sensitive training with a women's "
        "peace group, first of a cycle of three.",
    ),
    (
        "speaking_out",
        "Spoke at the community meeting against recruiting boys into the militia.",
    ),
    (
        "advocacy",
        "Took our written pledge to the district officer and asked for a women's safety desk.",
    ),
    (
        "conversation",
        "Listened to women peacebuilders' priorities before we planned the next workshop.",
    ),
    (
        "personal_practice",
        "Took on the childcare at home so my wife could attend the peace committee.",
    ),
    (
        "mentoring",
        "Mentored two young facilitators on running safe spaces for men.",
    ),
    (
        "advocacy",
        "Wrote to our member of parliament with the pledge and the names of ally organizations.",
    ),
]
ACTING_SHARE = 0.25  # of synthetic signers who log actions
BATCH = 2000


def any_pledge_exists() -> bool:
    return db.session.scalar(select(Pledge.id).limit(1)) is not None


def ensure_demo_pledge() -> Pledge:
    """The demo pledge and its organizations, created once."""
    pledge = db.session.scalar(select(Pledge).where(Pledge.slug == DEMO_SLUG))
    if pledge is not None:
        return pledge
    existing = set(db.session.scalars(select(Organization.slug)))
    organizations = {}
    for slug, name, country, description in ORGANIZATIONS:
        if slug in existing:
            organizations[slug] = db.session.scalar(
                select(Organization).where(Organization.slug == slug)
            )
            continue
        organizations[slug] = Organization(
            slug=slug, name=name, country=country, description=description
        )
        db.session.add(organizations[slug])
    pledge = Pledge(
        slug=DEMO_SLUG,
        title="Joining Forces: men and women as allies for peace",
        preamble=PREAMBLE,
        guidelines=GUIDELINES,
        status=PledgeStatus.OPEN,
        goal=100_000,
        checkin_cadence_days=30,
        organization=organizations["womens-peacemakers-program"],
        opened_at=utcnow() - timedelta(days=90),
        commitments=[
            Commitment(position=i, text=text, required=required)
            for i, (text, required) in enumerate(COMMITMENTS, start=1)
        ],
    )
    db.session.add(pledge)
    db.session.flush()
    return pledge


def _name_pools(rng: random.Random, size: int = 400) -> dict[str, tuple[list[str], list[str]]]:
    """Per locale, a pool of first and last names to combine (Faker per row is the slow part)."""
    pools = {}
    for _, locale, _ in COUNTRIES:
        faker = Faker(locale)
        faker.seed_instance(rng.random())
        pools[locale] = (
            [faker.first_name() for _ in range(size)],
            [faker.last_name() for _ in range(size)],
        )
    return pools


def add_synthetic_signatures(
    pledge: Pledge,
    count: int,
    seed: int | None = None,
    progress: Callable[[int], object] = lambda n: None,
) -> None:
    """Insert ``count`` confirmed synthetic signers in bulk, then rebuild the counters."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not secrets
    names = _name_pools(rng)
    countries, locales, country_weights = zip(*COUNTRIES, strict=True)
    roles, role_weights = zip(*ROLES, strict=True)
    visibilities, visibility_weights = zip(*VISIBILITIES, strict=True)
    org_names = [name for _, name, _, _ in ORGANIZATIONS]
    required = [c.id for c in pledge.commitments if c.required]
    optional = [c.id for c in pledge.commitments if not c.required]
    versions = {c.id: c.version for c in pledge.commitments}

    now = utcnow()
    span = timedelta(days=89).total_seconds()
    cycle = pledge_cadence(pledge)
    signature_table = Signature.__table__
    chosen_table = SignatureCommitment.__table__
    action_table = Action.__table__
    run = secrets.token_hex(4)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows = []
        for i in range(size):
            n = done + i
            index = rng.choices(range(len(countries)), country_weights)[0]
            first_names, last_names = names[locales[index]]
            visibility = rng.choices(visibilities, visibility_weights)[0]
            has_org = visibility == Visibility.ORGANIZATION or rng.random() < 0.25
            # Spread over the last 89 days, oldest first, so the wall reads like a campaign.
            confirmed = now - timedelta(seconds=span * (1 - (n + 1) / (count + 1)))
            email = f"demo-{run}-{n}@example.org"
            # When this signer logged an action, if they did: between confirming and now.
            acted = confirmed + (now - confirmed) * rng.random()
            acts = rng.random() < ACTING_SHARE
            rows.append(
                {
                    "pledge_id": pledge.id,
                    "full_name": f"{rng.choice(first_names)} {rng.choice(last_names)}",
                    "email": email,
                    "email_normalized": email,
                    "country": countries[index],
                    "role": rng.choices(roles, role_weights)[0].value,
                    "organization_name": rng.choice(org_names) if has_org else "",
                    "visibility": visibility.value,
                    "public_id": new_public_id(),
                    "show_role": visibility in (Visibility.FULL, Visibility.INITIAL),
                    # Published at once, from the day they confirmed (transitions.confirm).
                    "public_since": confirmed.replace(hour=0, minute=0, second=0, microsecond=0),
                    "personal_note": rng.choice(NOTES) if rng.random() < 0.15 else "",
                    "status": SignatureStatus.CONFIRMED.value,
                    "verification_code": new_verification_code(),
                    "signed_at": confirmed - timedelta(minutes=rng.randint(1, 600)),
                    "confirmed_at": confirmed,
                    # Demo signers count as already reviewed by moderators.
                    "reviewed_at": confirmed,
                    # Active until the end of the cycle they acted in (see checkins.cycles).
                    "active_until": (
                        confirmed + ((acted - confirmed) // cycle + 1) * cycle if acts else None
                    ),
                }
            )
        ids = bulk_insert_returning_ids(db.session, signature_table, rows)
        chosen, logged = [], []
        for signature_id, row in zip(ids, rows, strict=True):
            picks = required + rng.sample(optional, rng.randint(0, len(optional)))
            chosen.extend(
                {"signature_id": signature_id, "commitment_id": c, "version": versions[c]}
                for c in picks
            )
            if row["active_until"] is not None:
                acted = row["active_until"] - cycle * rng.random() * 0.5
                acted = min(max(acted, row["confirmed_at"]), now)
                kind, description = rng.choice(ACTIONS)
                logged.append(
                    {
                        "pledge_id": pledge.id,
                        "signature_id": signature_id,
                        "commitment_id": rng.choice(picks),
                        "kind": kind,
                        "done_on": acted.date(),
                        "description": description,
                        "people_reached": rng.choice([None, 1, 3, 5, 12, 20, 45]),
                        "evidence_url": None,
                        "visibility": "public" if rng.random() < 0.7 else "private",
                        "review_state": "unreviewed",
                        "created_at": acted,
                        "updated_at": acted,
                    }
                )
        bulk_insert(db.session, chosen_table, chosen)
        bulk_insert(db.session, action_table, logged)
        done += size
        progress(size)
    transitions.signatures_loaded(pledge.id)
