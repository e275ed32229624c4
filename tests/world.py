"""A small site where every kind of object a route names exists, and where each route
argument of /organize/… and /admin/… gets the real id of an object of that kind.

The sweeps in tests/test_access.py and tests/test_csrf.py walk the URL map; a route whose
argument this module cannot fill makes them fail, so a new route is added here with it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from pledges.domain.tallies import tally_for
from pledges.dossier import content as dossier_content
from pledges.dossier import service as dossier_service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import PledgeCosigner, Report, ReportReason, Signature
from pledges.moderation import service as moderation
from pledges.orgs import service as orgs
from pledges.orgs.service import OrganizationInput
from pledges.paper import service as paper
from pledges.updates import service as updates
from tests.factories import confirmed_signature, make_pledge, make_user, run_by, translate


@dataclass(frozen=True)
class World:
    """Everything one organizer (``owner``) runs, and what the route arguments get."""

    owner: str  # email of an organizer (not an admin) who runs ``slug``
    admin: str  # email of an admin
    intruder: str  # email of an organizer who runs ``intruder_slug`` only
    slug: str
    intruder_slug: str
    commitment_id: int
    organization_slug: str  # an organization the owner added (the intruder did not)
    cosigner_id: int  # an organization that co-signs the owner's pledge
    signature_id: int  # a signature on the owner's pledge, on the wall and reported
    signature_public_id: str  # the same signature as the public pages name it
    hidden_signature_id: int  # a signature on the owner's pledge, hidden by a moderator
    dossier_id: int  # a finished dossier of the owner's pledge
    dossier_chart: str  # the name of a chart in its preview
    co_organizer_id: int  # another organizer of the owner's pledge (an admin's user routes too)
    locale: str  # a language the owner's pledge is translated into
    paper_code: str  # a paper sign-up sheet of the owner's pledge
    update_id: int  # a published update of the owner's pledge, its emailing started
    session_id: int = 0  # a dialogue session of the owner's pledge


def build_world() -> World:
    """Needs an app context. Objects are made through the app's own services."""
    owner = make_user("owner@example.org")
    admin = make_user("admin@example.org", role="admin")
    intruder = make_user("intruder@example.org")
    co_organizer = make_user("co-organizer@example.org")
    make_user("someone@example.org")

    theirs = run_by(run_by(make_pledge(), owner), co_organizer)
    mine = run_by(make_pledge(), intruder)
    # The intruder has objects of every kind too, so ids of both exist side by side.
    organizations = {}
    for pledge, who in ((theirs, owner), (mine, intruder)):
        translate(pledge, "fr", "Alliés pour la paix", "Ensemble.", ["Un.", "Deux.", "Trois."])
        organization = orgs.create_organization(
            OrganizationInput(
                name=f"Peace Circle of {who.email}", country="KE", website=None, description=""
            ),
            who,
        )
        organizations[who.id] = organization
        db.session.add(PledgeCosigner(pledge_id=pledge.id, organization_id=organization.id))
        db.session.commit()
        for _ in range(2):
            confirmed_signature(pledge)
    signature, hidden = db.session.scalars(
        select(Signature).where(Signature.pledge_id == theirs.id).order_by(Signature.id)
    ).all()
    db.session.add(Report(pledge_id=theirs.id, signature_id=signature.id, reason=ReportReason.SPAM))
    moderation.hide(hidden, "Not a real person.")
    db.session.commit()

    dossier = dossier_service.request_dossier(theirs, "officials", owner)
    db.session.commit()
    dossier_service.issue(dossier)
    db.session.commit()
    news = {}
    for pledge in (theirs, mine):
        news[pledge.id] = updates.save_update(
            pledge, {pledge.language: updates.UpdateText("News", "We met the minister.")}
        )
        updates.publish(news[pledge.id])
        send = updates.start_send(news[pledge.id])
        db.session.commit()
        updates.run_send(send.id)  # done: no route here starts a job in the background
    charts = dossier_content.dossier_charts(theirs, tally_for(theirs.id), utcnow())
    sheet = paper.create_sheet(theirs, "en", owner)
    db.session.commit()
    paper.take_scan(sheet, io.BytesIO(b"%PDF-1.4\n% a scan of the signed sheet\n"), True, owner)
    db.session.commit()
    sessions = {
        pledge.id: dialogue_session(pledge, who)
        for pledge, who in ((theirs, owner), (mine, intruder))
    }
    return World(
        owner=owner.email,
        admin=admin.email,
        intruder=intruder.email,
        slug=theirs.slug,
        intruder_slug=mine.slug,
        commitment_id=theirs.commitments[-1].id,
        organization_slug=organizations[owner.id].slug,
        cosigner_id=organizations[owner.id].id,
        signature_id=signature.id,
        signature_public_id=signature.public_id,
        hidden_signature_id=hidden.id,
        dossier_id=dossier.id,
        dossier_chart=charts[0].name,
        co_organizer_id=co_organizer.id,
        locale="fr",
        paper_code=sheet.code,
        session_id=sessions[theirs.id],
        update_id=news[theirs.id].id,
    )


def dialogue_session(pledge, user) -> int:
    """A dialogue session a month from now, scheduled as its organizer would."""
    from pledges.sessions import service as sessions

    start = (utcnow() + timedelta(days=30)).replace(tzinfo=None, microsecond=0)
    [session] = sessions.schedule(
        pledge,
        sessions.SessionInput(
            title="Dialogue",
            local_start=start,
            timezone="UTC",
            duration_minutes=60,
            place="Nairobi",
            online_url=None,
            language="en",
            facilitators=(),
        ),
        user,
    )
    db.session.commit()
    return session.id


# The value each route argument takes: by (endpoint, argument) first, then by argument.
Filler = Callable[[World], object]
BY_ENDPOINT: dict[tuple[str, str], Filler] = {
    ("orgs.edit", "slug"): lambda w: w.organization_slug,
    ("dashboard.chart", "name"): lambda w: "per-day",
    ("dossier.chart", "name"): lambda w: w.dossier_chart,
    ("moderation.unhide", "signature_id"): lambda w: w.hidden_signature_id,
    # The world runs jobs in threads: no queue holds a failed job to name.
    ("admin.retry_job", "job_id"): lambda w: "0" * 32,
    **{
        (f"paper.{view}", "code"): lambda w: w.paper_code
        for view in ("sheet", "sheet_pdf", "sheet_preview", "entry", "scan", "delete_scan")
    },
}
BY_ARGUMENT: dict[str, Filler] = {
    "slug": lambda w: w.slug,
    "commitment_id": lambda w: w.commitment_id,
    "organization_id": lambda w: w.cosigner_id,
    "signature_id": lambda w: w.signature_id,
    "public_id": lambda w: w.signature_public_id,
    "dossier_id": lambda w: w.dossier_id,
    "user_id": lambda w: w.co_organizer_id,
    "session_id": lambda w: w.session_id,
    "locale": lambda w: w.locale,
    "update_id": lambda w: w.update_id,
}


@dataclass(frozen=True)
class Route:
    method: str
    url: str
    endpoint: str
    # Arguments other than the pledge's slug: the route reaches an object inside a pledge.
    object_arguments: tuple[str, ...]
    values: dict

    @property
    def is_admin(self) -> bool:
        return self.url.startswith("/admin")

    @property
    def names_a_pledge(self) -> bool:
        return "slug" in self.values and self.endpoint != "orgs.edit"


def world_routes(
    app: Flask,
    world: World,
    prefixes: tuple[str, ...] = ("/organize", "/admin"),
    fillers: dict[tuple[str, str], Filler] | None = None,
    methods: frozenset[str] = frozenset({"GET", "POST"}),
    **replace,
) -> list[Route]:
    """Every route under ``prefixes`` with each argument filled with a real id from
    ``world`` (``fillers`` adds values by (endpoint, argument); ``replace`` overrides an
    argument by name). An argument nobody taught this module to fill fails the test."""
    routes = []
    by_endpoint = {**BY_ENDPOINT, **(fillers or {})}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefixes) or not methods & rule.methods:
            continue
        values = {}
        for name in sorted(rule.arguments):
            fill = by_endpoint.get((rule.endpoint, name)) or BY_ARGUMENT.get(name)
            assert fill, (
                f"{rule.rule} ({rule.endpoint}): no real object for <{name}>: add one to "
                "tests/world.py"
            )
            values[name] = replace.get(name, fill(world))
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **values)
        others = tuple(n for n in sorted(rule.arguments) if n != "slug")
        for method in sorted(methods & rule.methods):
            routes.append(Route(method, url, rule.endpoint, others, values))
    return routes
