"""Texts of the auth feature that depend on the request or the reader's language: the lockout message and the
password-reset e-mail."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale, format_datetime, gettext

from marketplace.auth.models import User
from marketplace.auth.services import AccountLocked
from marketplace.mail import send_mail


def locked_message(error: AccountLocked) -> str:
    """'... locked until 3 Des 2026 14.05' in the page's language and time zone."""
    return gettext(error.message, until=format_datetime(error.locked_until, "medium"))


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an e-mail: on MARKETPLACE_BASE_URL, never on whatever Host a request claimed (that
    would let anyone send a victim a reset link to their own site). Production refuses to start without it
    (config.check_production); only a development app falls back on this request's host."""
    base = str(current_app.config.get("BASE_URL") or "")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def send_password_reset(user: User, token: str) -> None:
    """E-mail the reset link, in the user's own language (Indonesian unless they chose another)."""
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    language = user.locale or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "id"))
    with force_locale(language):
        subject = gettext("Reset your Pasar KUBE password")
        body = render_template("auth/email/reset_password.txt", user=user, minutes=minutes,
                               link=external_url("auth.reset_password", token=token))
    send_mail(user.email, subject, body, language=language)
