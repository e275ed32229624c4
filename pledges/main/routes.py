from flask import Blueprint, render_template

from pledges.wall.service import open_pledges

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("main/index.html", pledges=open_pledges())


@bp.get("/about")
def about():
    return render_template("main/about.html")
