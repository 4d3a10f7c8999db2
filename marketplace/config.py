"""Configuration: defaults here, overrides from MARKETPLACE_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ENV_NAMES = ("development", "testing", "production")
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused in production, see check_production


class ConfigError(RuntimeError):
    """The configuration cannot be used."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict[str, Any]:
    """Build the configuration for one app: defaults, then MARKETPLACE_* variables."""
    env = os.environ
    instance = Path(instance_path)
    env_name = env.get("MARKETPLACE_ENV", "development").strip().lower()
    if env_name not in ENV_NAMES:
        raise ConfigError(f"MARKETPLACE_ENV must be one of {', '.join(ENV_NAMES)}, not {env_name!r}.")
    config: dict[str, Any] = {
        "ENV_NAME": env_name,
        "SECRET_KEY": env.get("MARKETPLACE_SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": env.get(
            "MARKETPLACE_DATABASE_URL", f"sqlite:///{instance / 'pasarkube.sqlite3'}"
        ),
        "MEDIA_ROOT": env.get("MARKETPLACE_MEDIA_ROOT", str(instance / "media")),
        # Receipts and field-visit photos: never served by /media, only through pages that check who asks.
        "PRIVATE_MEDIA_ROOT": env.get("MARKETPLACE_PRIVATE_MEDIA_ROOT", str(instance / "private-media")),
        # Uploads: 8 MB per request is plenty for phone photos; bigger ones get a clear form error.
        "MAX_UPLOAD_BYTES": int(env.get("MARKETPLACE_MAX_UPLOAD_BYTES", str(8 * 1024 * 1024))),
        "MAX_IMAGE_PIXELS": int(env.get("MARKETPLACE_MAX_IMAGE_PIXELS", str(40_000_000))),
        "API_TOKEN_DAYS": int(env.get("MARKETPLACE_API_TOKEN_DAYS", "30")),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": env.get("MARKETPLACE_TIMEZONE", "Asia/Jakarta"),
        "LANGUAGES": ["id", "en"],
        "PER_PAGE": 24,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Search (docs/search.md): the index lives on local disk; "thread" runs the indexer inside each
        # app process (one of them writes at a time), "off" when `flask search indexer` runs on its own.
        # Where buyers send bank transfers (the manual payment provider); an operator matches them.
        "PLATFORM_BANK_ACCOUNT": env.get("MARKETPLACE_PLATFORM_BANK_ACCOUNT",
                                         "BRI 0123-01-000111-30-1 a.n. Yayasan Pasar KUBE (demo)"),
        # How long unpaid orders hold their stock before they expire.
        "TRANSFER_WINDOW_MINUTES": int(env.get("MARKETPLACE_TRANSFER_WINDOW_MINUTES", str(24 * 60))),
        "CARD_WINDOW_MINUTES": int(env.get("MARKETPLACE_CARD_WINDOW_MINUTES", "30")),
        "COD_WINDOW_MINUTES": int(env.get("MARKETPLACE_COD_WINDOW_MINUTES", str(3 * 24 * 60))),
        # The platform's fee on each KUBE's goods, in basis points (200 = 2 %), fixed on an order when placed.
        "PLATFORM_FEE_BPS": int(env.get("MARKETPLACE_PLATFORM_FEE_BPS", "200")),
        # Card payments through Stripe: off until a secret key is set. STRIPE_API_BASE and STRIPE_JS_URL point
        # at another server (a test double); unset means the real Stripe.
        "STRIPE_SECRET_KEY": env.get("MARKETPLACE_STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("MARKETPLACE_STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("MARKETPLACE_STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("MARKETPLACE_STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": env.get("MARKETPLACE_STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "SEARCH_BACKEND": env.get("MARKETPLACE_SEARCH_BACKEND", "whoosh"),
        "SEARCH_DIR": env.get("MARKETPLACE_SEARCH_DIR", str(instance / "search")),
        "SEARCH_INDEXER": env.get("MARKETPLACE_SEARCH_INDEXER", "thread"),
        "SEARCH_INTERVAL": float(env.get("MARKETPLACE_SEARCH_INTERVAL", "0.5")),
        "SEARCH_BUILD_PROCS": int(env.get("MARKETPLACE_SEARCH_BUILD_PROCS", "2")),
    }
    # Requests may be a little bigger than one upload (several photos + form fields).
    config["MAX_CONTENT_LENGTH"] = int(
        env.get("MARKETPLACE_MAX_CONTENT_LENGTH", str(config["MAX_UPLOAD_BYTES"] * 4))
    )
    if config["ENV_NAME"] == "production":
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    if "MARKETPLACE_SESSION_COOKIE_SECURE" in env:
        secure = _bool(env["MARKETPLACE_SESSION_COOKIE_SECURE"])
        config["SESSION_COOKIE_SECURE"] = secure
        config["REMEMBER_COOKIE_SECURE"] = secure
    for name in ("TRANSFER_WINDOW_MINUTES", "CARD_WINDOW_MINUTES", "COD_WINDOW_MINUTES"):
        if not 5 <= config[name] <= 14 * 24 * 60:
            raise ConfigError(f"MARKETPLACE_{name} must be between 5 minutes and 14 days.")
    if not 0 <= config["PLATFORM_FEE_BPS"] <= 5000:
        raise ConfigError("MARKETPLACE_PLATFORM_FEE_BPS must be between 0 and 5000 (50 %).")
    if config["STRIPE_SECRET_KEY"] and not (config["STRIPE_PUBLISHABLE_KEY"] and config["STRIPE_WEBHOOK_SECRET"]):
        raise ConfigError("Card payments need MARKETPLACE_STRIPE_PUBLISHABLE_KEY and "
                          "MARKETPLACE_STRIPE_WEBHOOK_SECRET as well as the secret key.")
    if config["SEARCH_INDEXER"] not in ("thread", "off"):
        raise ConfigError("MARKETPLACE_SEARCH_INDEXER must be 'thread' or 'off'.")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    return config


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start a production app with settings that are only safe on a laptop."""
    if config.get("ENV_NAME") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY) or len(str(config["SECRET_KEY"])) < 16:
        raise ConfigError(
            "MARKETPLACE_SECRET_KEY must be set to a long random value in production "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
        )
