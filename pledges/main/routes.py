from flask import render_template

from pledges.main import bp
from pledges.wall.service import open_pledges


@bp.get("/")
def index():
    return render_template("main/index.html", pledges=open_pledges())
