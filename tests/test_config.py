"""Configuration comes from MARKETPLACE_* variables; production refuses unsafe defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.config import ConfigError


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "from-the-environment-123")
    monkeypatch.setenv("MARKETPLACE_MAX_UPLOAD_BYTES", "1234")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///:memory:"
    assert app.config["SECRET_KEY"] == "from-the-environment-123"
    assert app.config["MAX_UPLOAD_BYTES"] == 1234
    assert app.config["BABEL_DEFAULT_LOCALE"] == "id"


def test_default_database_is_sqlite_under_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MARKETPLACE_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/pasarkube.sqlite3")


@pytest.mark.parametrize("secret", [None, "dev-insecure-change-me", "short"])
def test_production_refuses_weak_secret_key(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    if secret is None:
        monkeypatch.delenv("MARKETPLACE_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("MARKETPLACE_SECRET_KEY", secret)
    with pytest.raises(ConfigError):
        create_app()


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings production needs: a real key, the site's own address and a mail server."""
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "9f2c" * 16)
    monkeypatch.setenv("MARKETPLACE_BASE_URL", "https://pasarkube.id")
    monkeypatch.setenv("MARKETPLACE_SMTP_HOST", "smtp.example.net")
    monkeypatch.delenv("MARKETPLACE_MAIL_DIR", raising=False)


def test_production_starts_with_a_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize("name", ["prod", "staging", ""])
def test_unknown_environment_names_are_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", name)
    with pytest.raises(ConfigError):
        create_app()


def test_environment_name_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "Production")
    monkeypatch.delenv("MARKETPLACE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):  # recognised as production, so the default key is refused
        create_app()


@pytest.mark.parametrize("name, value", [
    ("MARKETPLACE_PLATFORM_FEE_BPS", "-1"), ("MARKETPLACE_PLATFORM_FEE_BPS", "9000"),
    ("MARKETPLACE_CARD_WINDOW_MINUTES", "0"), ("MARKETPLACE_TRANSFER_WINDOW_MINUTES", "99999"),
    ("MARKETPLACE_STRIPE_SECRET_KEY", "sk_test_only_the_secret"),
])
def test_payment_settings_that_cannot_work_are_refused(monkeypatch: pytest.MonkeyPatch, name: str,
                                                       value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        create_app()


def test_payment_windows_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_TRANSFER_WINDOW_MINUTES", "120")
    monkeypatch.setenv("MARKETPLACE_CARD_WINDOW_MINUTES", "15")
    monkeypatch.setenv("MARKETPLACE_PLATFORM_FEE_BPS", "0")
    app = create_app()
    with app.test_request_context():
        from marketplace.payments.views import checkout_settings

        settings = checkout_settings()
    assert settings["fee_bps"] == 0
    assert {m.value: w.total_seconds() for m, w in settings["payment_windows"].items()} == {
        "manual": 7200, "stripe": 900, "cod": 3 * 24 * 3600}
    assert settings["payments"].methods == ("manual", "cod")


@pytest.mark.parametrize("private", ["media/private", "media", "."])
def test_private_photos_never_sit_under_the_public_media(monkeypatch: pytest.MonkeyPatch, tmp_path: object,
                                                         private: str) -> None:
    monkeypatch.setenv("MARKETPLACE_MEDIA_ROOT", f"{tmp_path}/media")
    monkeypatch.setenv("MARKETPLACE_PRIVATE_MEDIA_ROOT", f"{tmp_path}/{private}")
    with pytest.raises(ConfigError, match="PRIVATE_MEDIA_ROOT"):
        create_app()
    monkeypatch.setenv("MARKETPLACE_PRIVATE_MEDIA_ROOT", f"{tmp_path}/private-media")
    assert create_app().config["PRIVATE_MEDIA_ROOT"].endswith("private-media")


@pytest.mark.parametrize("value", [None, "", "pasarkube.id"])
def test_production_refuses_to_start_without_its_own_address(monkeypatch: pytest.MonkeyPatch,
                                                             value: str | None) -> None:
    """Without MARKETPLACE_BASE_URL a reset link would take the host from the request, which anyone can name."""
    _production(monkeypatch)
    if value is None:
        monkeypatch.delenv("MARKETPLACE_BASE_URL")
    else:
        monkeypatch.setenv("MARKETPLACE_BASE_URL", value)
    with pytest.raises(ConfigError, match="MARKETPLACE_BASE_URL"):
        create_app()


def test_production_refuses_to_start_without_a_mail_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _production(monkeypatch)
    monkeypatch.delenv("MARKETPLACE_SMTP_HOST")
    with pytest.raises(ConfigError, match="MARKETPLACE_SMTP_HOST"):
        create_app()
    # Mail kept as files is allowed when chosen on purpose.
    monkeypatch.setenv("MARKETPLACE_MAIL_DIR", str(tmp_path / "mail"))
    assert create_app().config["MAIL_DIR"] == str(tmp_path / "mail")


def test_development_needs_neither(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MARKETPLACE_ENV", "MARKETPLACE_BASE_URL", "MARKETPLACE_SMTP_HOST", "MARKETPLACE_MAIL_DIR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["BASE_URL"] == "" and app.config["SMTP_HOST"] == ""
