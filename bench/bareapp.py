"""A bare Flask app with only ``/hello``: none of the app's middleware, configuration or
database. Served beside ``benchapp`` by bench/surge.py, it measures the machine itself, so
figures taken on machines of different speeds can be compared (issue 19 set its aims where
this route answered 4,825 requests a second)."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    return app
