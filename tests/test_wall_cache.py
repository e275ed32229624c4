"""The wall is served from a cache that every change invalidates, on every host at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from pledges import create_app
from pledges.extensions import db
from pledges.me import service
from pledges.models import Pledge, PledgeStatus, Signature
from pledges.wall.service import public_pledge_ref_or_404
from tests.conftest import REDIS_URL
from tests.factories import confirmed_signature, make_pledge

CACHES = ["SimpleCache", "RedisCache"] if REDIS_URL else ["SimpleCache"]


def test_wall_is_served_from_the_cache_until_something_changes(client, app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, name="Dorothy Attema")
    other = confirmed_signature(pledge, name="Jose de Vries")
    wall = f"/p/{pledge.slug}/wall"
    assert "Dorothy Attema" in client.get(wall).text

    # A change behind the services' back is not seen: the page came from the cache.
    db.session.execute(
        update(Signature).where(Signature.id == signature.id).values(full_name="Changed")
    )
    db.session.commit()
    assert "Dorothy Attema" in client.get(wall).text

    # A change through the services is seen at once.
    service.change_visibility(other, "anonymous", "")
    db.session.commit()
    page = client.get(wall).text
    assert "Jose de Vries" not in page and "Anonymous ally" in page
    assert "Changed" in page


def test_the_feed_is_cached_like_the_wall(client, app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, name="Dorothy Attema")
    feed = f"/p/{pledge.slug}/feed.atom"
    first = client.get(feed)
    assert first.mimetype == "application/atom+xml" and "Dorothy Attema" in first.text

    db.session.execute(
        update(Signature).where(Signature.id == signature.id).values(full_name="Changed")
    )
    db.session.commit()
    assert client.get(feed).data == first.data  # from the cache

    confirmed_signature(pledge, name="Jose de Vries")  # a change the wall shows
    fresh = client.get(feed).text
    assert "Jose de Vries" in fresh and "Changed" in fresh


@pytest.mark.config(WALL_CACHE_SECONDS=0)
def test_cache_can_be_switched_off(client, app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, name="Dorothy Attema")
    client.get(f"/p/{pledge.slug}/wall")
    db.session.execute(
        update(Signature).where(Signature.id == signature.id).values(full_name="Changed")
    )
    db.session.commit()
    assert "Changed" in client.get(f"/p/{pledge.slug}/wall").text


@pytest.mark.parametrize("cache_type", CACHES)
def test_a_change_on_one_host_shows_on_another_at_once(app_config, app, cache_type):
    settings = {**app_config, "CACHE_TYPE": cache_type, "REDIS_URL": REDIS_URL}
    if cache_type == "RedisCache":
        settings["CACHE_REDIS_URL"] = REDIS_URL
    host_a, host_b = create_app(settings), create_app(settings)
    with host_a.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge, name="Merle Gosewinkel")
        slug = pledge.slug
    wall = f"/p/{slug}/wall"
    assert "Merle Gosewinkel" in host_a.test_client().get(wall).text
    assert "Merle Gosewinkel" in host_b.test_client().get(wall).text

    with host_b.app_context():
        pledge = db.session.merge(pledge)
        confirmed_signature(pledge, name="Isabelle Geuskens")
    for host in (host_a, host_b):
        page = host.test_client().get(wall).text
        assert "Isabelle Geuskens" in page and "<strong>2</strong>" in page
    for host in (host_a, host_b):
        with host.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_visitor_with_a_message_is_not_served_or_stored_as_everyone(app, client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Seema Kakran")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Only for this visitor")]
    assert "Only for this visitor" in client.get(f"/p/{pledge.slug}/wall").text
    stranger = app.test_client()
    assert "Only for this visitor" not in stranger.get(f"/p/{pledge.slug}/wall").text


def test_one_visitors_query_parameters_never_reach_the_cached_page(app, client):
    with app.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge, name="Dorothy Attema")
        slug = pledge.slug
    wall = client.get(f"/p/{slug}/wall?ref=alice-secret-token&country=KE").text
    assert "alice-secret-token" not in wall  # not even in the copy it filled
    assert "country=KE&amp;lang=fr" in wall  # what the page is stays in its language links
    assert "alice-secret-token" not in app.test_client().get(f"/p/{slug}/wall?country=KE").text
    actions = client.get(f"/p/{slug}/actions?x=bob-secret").text
    assert "bob-secret" not in actions
    assert "bob-secret" not in app.test_client().get(f"/p/{slug}/actions").text


@pytest.mark.parametrize("status", list(PledgeStatus))
def test_the_hot_path_lookup_finds_exactly_the_public_pledges(app, status):
    """The wall's reference read (plain SQL on the driver) and Pledge.is_public agree for
    every status, and a pledge's stamp is the same at every read."""
    with app.test_request_context():
        pledge = make_pledge(status=status)
        is_public = db.session.scalar(select(Pledge.is_public).where(Pledge.id == pledge.id))
        assert is_public == (status in PledgeStatus.public())
        if is_public:
            ref = public_pledge_ref_or_404(pledge.slug)
            assert (ref.id, ref.wall_version) == (pledge.id, pledge.wall_version)
            assert ref.cache_stamp == public_pledge_ref_or_404(pledge.slug).cache_stamp
        else:
            with pytest.raises(NotFound):
                public_pledge_ref_or_404(pledge.slug)
