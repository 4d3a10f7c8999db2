"""Pasar KUBE: a marketplace for the products of KUBE groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. Config: defaults < MARKETPLACE_* variables < test_config."""
    from marketplace.config import check_media_roots, check_production, load_config

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    check_production(app.config)
    check_media_roots(app.config)

    from marketplace.web import IdConverter

    # Ids in URLs are positive 32-bit integers (the INTEGER primary keys of PostgreSQL and SQLite).
    app.url_map.converters["id"] = IdConverter
    register_extensions(app)
    register_blueprints(app)
    register_web(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from marketplace import models  # noqa: F401 - every table must be known to SQLAlchemy and Alembic
    from marketplace.extensions import babel, csrf, db, login_manager, migrate
    from marketplace.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from marketplace import mail, ratelimits

    ratelimits.init_app(app)  # also ProxyFix when MARKETPLACE_PROXY_FIX says the app sits behind proxies
    mail.init_app(app)

    from marketplace.search import outbox  # noqa: F401 - records search changes on every flush
    from marketplace.search.runtime import init_app as init_search

    init_search(app)

    from marketplace.webhooks import jobs as webhook_jobs

    webhook_jobs.init_app(app)  # only with MARKETPLACE_REDIS_URL: an RQ job sends new webhook events at once

    @login_manager.user_loader
    def _load_user(user_id: str) -> Any:
        from marketplace.auth.services import load_user
        from marketplace.web import db_session

        return load_user(db_session(), user_id)


def register_blueprints(app: Flask) -> None:
    # Importing each feature's views attaches its routes to the feature's blueprint.
    import marketplace.admin.views
    import marketplace.api.views
    import marketplace.audit.views
    import marketplace.auth.views
    import marketplace.books.views
    import marketplace.catalog.views
    import marketplace.chains.views
    import marketplace.facilitator.views
    import marketplace.graduation.views
    import marketplace.insights.views
    import marketplace.ledger.views
    import marketplace.orders.views
    import marketplace.payments.views
    import marketplace.privacy.views
    import marketplace.reviews.views
    import marketplace.search.views
    import marketplace.shop.views
    import marketplace.sourcing.views
    import marketplace.stories.views
    import marketplace.webhooks.views  # noqa: F401
    from marketplace.admin import bp as admin_bp
    from marketplace.api import bp as api_bp
    from marketplace.audit import bp as audit_bp
    from marketplace.auth import bp as auth_bp
    from marketplace.books import bp as books_bp
    from marketplace.catalog import bp as catalog_bp
    from marketplace.chains import bp as chains_bp
    from marketplace.extensions import csrf
    from marketplace.facilitator import bp as facilitator_bp
    from marketplace.graduation import bp as graduation_bp
    from marketplace.insights import bp as insights_bp
    from marketplace.ledger import bp as ledger_bp
    from marketplace.orders import bp as orders_bp
    from marketplace.payments import bp as payments_bp
    from marketplace.privacy import bp as privacy_bp
    from marketplace.reviews import bp as reviews_bp
    from marketplace.search import bp as search_bp
    from marketplace.shop import bp as shop_bp
    from marketplace.sourcing import bp as sourcing_bp
    from marketplace.stories import bp as stories_bp
    from marketplace.webhooks import bp as webhooks_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(facilitator_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(chains_bp)
    app.register_blueprint(sourcing_bp)
    app.register_blueprint(books_bp)
    app.register_blueprint(stories_bp)
    app.register_blueprint(graduation_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(webhooks_bp)
    # The API authenticates with bearer tokens only (never the session cookie), so CSRF does not apply.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)


def register_web(app: Flask) -> None:
    from marketplace import web

    web.init_app(app)


def register_commands(app: Flask) -> None:
    from marketplace.cli import register

    register(app)
