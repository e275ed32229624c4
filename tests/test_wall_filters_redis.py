"""The wall's filtered pages in the shared cache on a real Redis: each filter (and page) has
a page of its own, with its own count, and the actions feed's filters too."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from pledges.extensions import db
from pledges.models import Signature
from tests.conftest import redis_settings
from tests.factories import confirmed_signature, logged_action, make_pledge


@pytest.fixture
def app_config(app_config: dict, redis_url: str) -> dict:
    return {**app_config, **redis_settings(redis_url), "MIN_PUBLIC_COUNT": 1}


def test_each_filter_has_its_own_cached_page(app, client):
    with app.app_context():
        pledge = make_pledge()
        kenyan = confirmed_signature(pledge, name="Wanjiku Kamau", country="KE")
        confirmed_signature(pledge, name="Anke de Vries", country="NL")
        logged_action(kenyan, description="Met the Nakuru peace committee")
        db.session.commit()
        slug, kenyan_id = pledge.slug, kenyan.id
    pages = {query: client.get(f"/p/{slug}/wall{query}").text for query in ("", "?country=KE")}
    feeds = {
        query: client.get(f"/p/{slug}/actions{query}").text
        for query in ("?country=NL", "?country=KE")
    }
    # Changed behind the services' back: what is served now comes from Redis.
    with app.app_context():
        db.session.execute(
            update(Signature).where(Signature.id == kenyan_id).values(full_name="Changed")
        )
        db.session.commit()
    everyone = client.get(f"/p/{slug}/wall").text
    kenya = client.get(f"/p/{slug}/wall?country=KE").text
    assert everyone == pages[""] and kenya == pages["?country=KE"]
    assert "2 signers are shown on the wall." in everyone
    assert "1 signer matches these filters." in kenya and "Anke de Vries" not in kenya
    assert client.get(f"/p/{slug}/actions?country=KE").text == feeds["?country=KE"]
    assert "Nakuru" in feeds["?country=KE"] and "Nakuru" not in feeds["?country=NL"]
    # The same filter in another language is another page, rendered from the database.
    french = client.get(f"/p/{slug}/wall?country=KE&lang=fr").text
    assert "Changed" in french and "Wanjiku Kamau" not in french
