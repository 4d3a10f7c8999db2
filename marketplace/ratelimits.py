"""Rate limits on sign-in, sign-up, password reset and the JSON API.

The limits are settings (RATELIMIT_* in config.py), read on every request, and count per client address.
A refused request raises Flask-Limiter's RateLimitExceeded, a 429 that marketplace.web turns into the error page
or the API's JSON error; Retry-After tells the client when to try again.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app
from flask_limiter import RouteLimit
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.extensions import limiter


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[f"RATELIMIT_{name}"])


def post_limit(name: str, *, with_blueprint_limit: bool = False) -> RouteLimit:
    """A route decorator: the RATELIMIT_<name> setting on the route's POST requests (pages are free to read).

    `with_blueprint_limit` keeps the blueprint's own limit on top (the API's token endpoint)."""
    return limiter.limit(_setting(name), methods=["POST"], override_defaults=not with_blueprint_limit)


def limit_blueprint(blueprint: Blueprint, name: str) -> None:
    """Every request to the blueprint counts against the RATELIMIT_<name> setting, all its routes together."""
    limiter.shared_limit(_setting(name), scope=blueprint.name)(blueprint)


def init_app(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies, then bind the limiter to the app."""
    hops = int(app.config.get("PROXY_FIX", 0))
    if hops:
        # Behind nginx/a load balancer every request comes from the proxy; its X-Forwarded-For names the client.
        # Without a proxy the header is the client's own word and would let it dodge every limit.
        # X-Forwarded-Host is never trusted: links in e-mails use MARKETPLACE_BASE_URL, not a claimed host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # Flask-Limiter keeps the first app's key prefix on its one shared instance; each app (tests build one per
    # test) names its own, so that apps sharing one Redis never share counts unless they mean to.
    limiter._key_prefix = str(app.config.get("RATELIMIT_KEY_PREFIX", ""))
    limiter._storage_dead = False  # and starts on its own storage, not on a fallback an earlier app fell back to
    limiter.init_app(app)
