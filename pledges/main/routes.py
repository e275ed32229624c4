from flask import Blueprint, render_template
from flask_babel import get_locale

from pledges.domain.content import requested_language, translated_titles
from pledges.infrastructure.http_cache import public_cache
from pledges.wall.service import open_pledges

bp = Blueprint("main", __name__)


@bp.get("/")
@public_cache
def index():
    pledges = open_pledges()
    # Each pledge's title in the reader's language where its organizers translated it.
    language = requested_language() or str(get_locale())
    titles = translated_titles([pledge.id for pledge, _ in pledges], language)
    return render_template("main/index.html", pledges=pledges, titles=titles, language=language)


@bp.get("/about")
@public_cache
def about():
    return render_template("main/about.html")
