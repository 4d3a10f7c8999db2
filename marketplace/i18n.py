"""Language choice: ?lang= (remembered in the session) > the user's setting > Accept-Language > id."""

from __future__ import annotations

from enum import StrEnum

from flask import current_app, request, session
from flask_babel import gettext
from flask_login import current_user

from marketplace.common import DomainError


def select_locale() -> str:
    languages: list[str] = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return str(session["lang"])
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return request.accept_languages.best_match(languages) or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def error_text(error: DomainError) -> str:
    """A service error's message in the page's language (enum parameters shown by their labels)."""
    from marketplace.labels import enum_label

    params = {k: enum_label(v) if isinstance(v, StrEnum) else v for k, v in error.params.items()}
    return gettext(error.message, **params)
