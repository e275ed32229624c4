"""Links that leave the app (emails, documents, share links, the feed, the API's servers).

They are built on ``base_url()``: BASE_URL when it is set (production must set it: behind
a proxy only the operator knows the public address, and a Host header must never choose
where a password-reset link points); in development without it, the address the current
request came to, so `make run PORT=5102` and any other port links to itself. Outside a
request (CLI commands, background threads) development falls back on the default,
http://127.0.0.1:$PORT (5000 when PORT is unset), which is where `make run` serves.
"""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def base_url() -> str:
    """The scheme, host, port and path prefix that external links start with (no final /)."""
    config = current_app.config
    if config.get("BASE_URL_FROM_REQUEST") and has_request_context():
        # root_url honours ProxyFix (PROXY_FIX_*) and the WSGI script name.
        return request.root_url.rstrip("/")
    return config["BASE_URL"].rstrip("/")


def external_url(endpoint: str, **values: object) -> str:
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
