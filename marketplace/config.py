"""Configuration: defaults here, overrides from MARKETPLACE_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_NAMES = ("development", "testing", "production")
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused in production, see check_production


class ConfigError(RuntimeError):
    """The configuration cannot be used."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Graduation readiness (docs/graduation.md): the rules that say when a KUBE is ready for KUR credit and to leave
# social assistance. Every figure is a setting because the programme, not the code, decides them.
GRADUATION_RULE_NAMES = ("sales", "profit", "trend", "books", "verified")
GRADUATION_DEFAULT_WEIGHTS = "sales=30,profit=30,trend=15,books=15,verified=10"


def _int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from MARKETPLACE_<name> between `low` and `high`; anything else stops the app."""
    raw = env.get(f"MARKETPLACE_{name}", str(default)).strip().replace("_", "")
    if not raw.lstrip("-").isdigit() or not raw.isascii():
        raise ConfigError(f"MARKETPLACE_{name} must be a whole number, not {raw!r}.")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"MARKETPLACE_{name} must be between {low} and {high}, not {value}.")
    return value


def _bool_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(f"MARKETPLACE_{name}")
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"MARKETPLACE_{name} must be true or false, not {raw!r}.")


def _graduation(env: Mapping[str, str]) -> dict[str, Any]:
    """MARKETPLACE_GRADUATION_* as plain values (marketplace.graduation.rules.Rules reads them)."""
    sales_months = _int_setting(env, "GRADUATION_SALES_MONTHS", 6, 1, 36)
    book_window = _int_setting(env, "GRADUATION_BOOK_WINDOW", 6, 2, 36)
    book_months = _int_setting(env, "GRADUATION_BOOK_MONTHS", 5, 0, 36)
    if book_months > book_window:
        raise ConfigError("MARKETPLACE_GRADUATION_BOOK_MONTHS cannot be more than MARKETPLACE_GRADUATION_BOOK_WINDOW "
                          f"({book_months} > {book_window}).")
    weights: dict[str, int] = {}
    raw_weights = env.get("MARKETPLACE_GRADUATION_WEIGHTS", GRADUATION_DEFAULT_WEIGHTS)
    for part in raw_weights.split(","):
        if not part.strip():
            continue
        name, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or name not in GRADUATION_RULE_NAMES or not value.isascii() or not value.isdigit():
            raise ConfigError("MARKETPLACE_GRADUATION_WEIGHTS must look like "
                              f"{GRADUATION_DEFAULT_WEIGHTS!r} (rules: {', '.join(GRADUATION_RULE_NAMES)}), "
                              f"not {raw_weights!r}.")
        if name in weights:
            raise ConfigError(f"MARKETPLACE_GRADUATION_WEIGHTS names {name!r} twice.")
        weights[name] = int(value)
        if weights[name] > 1000:
            raise ConfigError("Each MARKETPLACE_GRADUATION_WEIGHTS weight must be between 0 and 1000.")
    if sum(weights.values()) <= 0:
        raise ConfigError("MARKETPLACE_GRADUATION_WEIGHTS must give at least one rule a weight above 0.")
    return {
        # KUR Super Mikro and KUR Mikro need a business running 6 months (Permenko 1/2022).
        "SALES_MONTHS": sales_months,
        # Whole Rupiah of profit per member per month (average over PROFIT_MONTHS complete months).
        "PROFIT_PER_MEMBER": _int_setting(env, "GRADUATION_PROFIT_PER_MEMBER", 500_000, 0, 10**9),
        "PROFIT_MONTHS": _int_setting(env, "GRADUATION_PROFIT_MONTHS", 6, 2, 36),
        # The last TREND_MONTHS months' profit against the TREND_MONTHS before: "stable" down to this percent.
        "TREND_MONTHS": _int_setting(env, "GRADUATION_TREND_MONTHS", 3, 2, 12),
        "TREND_STABLE_PERCENT": _int_setting(env, "GRADUATION_TREND_STABLE_PERCENT", 90, 0, 100),
        "BOOK_MONTHS": book_months,
        "BOOK_WINDOW": book_window,
        "REQUIRE_VERIFIED": _bool_setting(env, "GRADUATION_REQUIRE_VERIFIED", True),
        "CLOSE_SCORE": _int_setting(env, "GRADUATION_CLOSE_SCORE", 60, 0, 100),
        # Rules left out of the setting weigh 0 (they are still shown and still needed for "ready").
        "WEIGHTS": {name: weights.get(name, 0) for name in GRADUATION_RULE_NAMES},
    }


# Rate limits (Flask-Limiter syntax, several joined by ";"), per client address. Sign-in and the token endpoint
# also lock the account itself after repeated failures (LOCKOUT_*), whatever address the attempts come from.
RATELIMIT_DEFAULTS = {
    "SIGNIN": "10 per minute;30 per hour",
    "SIGNUP": "5 per minute;30 per hour",
    "PASSWORD_RESET": "5 per hour",
    "API": "300 per minute",
    "API_TOKEN": "5 per minute;20 per hour",
}


def _rate_limit(env: Mapping[str, str], name: str) -> str:
    from limits import parse_many

    raw = env.get(f"MARKETPLACE_RATELIMIT_{name}", RATELIMIT_DEFAULTS[name]).strip()
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"MARKETPLACE_RATELIMIT_{name} must look like '10 per minute;30 per hour', "
                          f"not {raw!r}.") from None
    return raw


def _security(env: Mapping[str, str], instance: Path) -> dict[str, Any]:
    """Rate limits, account lockout, password reset and outgoing mail (docs in README, "Sign-in security")."""
    redis_url = env.get("MARKETPLACE_REDIS_URL", "").strip()
    smtp_host = env.get("MARKETPLACE_SMTP_HOST", "").strip()
    return {
        "RATELIMIT_ENABLED": _bool_setting(env, "RATELIMIT_ENABLED", True),
        # Redis shares the counts between processes and servers; memory counts per process.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("MARKETPLACE_RATELIMIT_KEY_PREFIX", "pasarkube"),
        # A moving window: no double burst at the turn of a minute, as a fixed window would allow.
        "RATELIMIT_STRATEGY": "moving-window",
        # A storage outage must not lock everyone out: count in memory until it is back.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        **{f"RATELIMIT_{name}": _rate_limit(env, name) for name in RATELIMIT_DEFAULTS},
        # Trust this many proxies in front of the app for X-Forwarded-For/-Proto (0: none, the default:
        # a client could otherwise pick any address to dodge the rate limits).
        "PROXY_FIX": _int_setting(env, "PROXY_FIX", 0, 0, 5),
        "LOCKOUT_ATTEMPTS": _int_setting(env, "LOCKOUT_ATTEMPTS", 5, 1, 1000),
        "LOCKOUT_WINDOW_MINUTES": _int_setting(env, "LOCKOUT_WINDOW_MINUTES", 15, 1, 7 * 24 * 60),
        "LOCKOUT_MINUTES": _int_setting(env, "LOCKOUT_MINUTES", 15, 1, 7 * 24 * 60),
        "PASSWORD_RESET_MINUTES": _int_setting(env, "PASSWORD_RESET_MINUTES", 60, 5, 7 * 24 * 60),
        # Links in e-mails start with this (e.g. https://pasarkube.id). Required in production; in development,
        # unset, links use the address the request came to.
        "BASE_URL": env.get("MARKETPLACE_BASE_URL", "").strip().rstrip("/"),
        "SMTP_HOST": smtp_host,
        "SMTP_PORT": _int_setting(env, "SMTP_PORT", 587, 1, 65535),
        "SMTP_USER": env.get("MARKETPLACE_SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("MARKETPLACE_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool_setting(env, "SMTP_STARTTLS", True),
        "SMTP_TIMEOUT": _int_setting(env, "SMTP_TIMEOUT", 10, 1, 300),
        "MAIL_FROM": env.get("MARKETPLACE_MAIL_FROM", "Pasar KUBE <no-reply@pasarkube.id>"),
        # Without SMTP, mail is written here as .eml files (and logged) for developers to open.
        "MAIL_DIR": env.get("MARKETPLACE_MAIL_DIR", str(instance / "mail")),
        # Production without SMTP only when the mail folder was chosen on purpose (see check_production).
        "MAIL_DIR_CHOSEN": bool(env.get("MARKETPLACE_MAIL_DIR", "").strip()),
    }


WEBHOOKS_DEFAULT_BACKOFF = "30,120,600,3600,21600"


def _webhooks(env: Mapping[str, str], env_name: str) -> dict[str, Any]:
    """MARKETPLACE_WEBHOOKS_* (docs/webhooks.md): partners' endpoints, retries and the delivery worker."""
    relaxed = env_name != "production"  # a developer's receiver on this computer, plain http
    raw = env.get("MARKETPLACE_WEBHOOKS_BACKOFF", WEBHOOKS_DEFAULT_BACKOFF)
    steps = [part.strip() for part in raw.split(",") if part.strip()]
    if not steps or not all(step.isascii() and step.isdigit() and 1 <= int(step) <= 7 * 86400 for step in steps):
        raise ConfigError("MARKETPLACE_WEBHOOKS_BACKOFF must be waits in seconds (1 to 604800) separated by "
                          f"commas, like {WEBHOOKS_DEFAULT_BACKOFF!r}, not {raw!r}.")
    timeout = _int_setting(env, "WEBHOOKS_TIMEOUT_SECONDS", 10, 1, 120)
    lease = _int_setting(env, "WEBHOOKS_LEASE_SECONDS", 120, 10, 3600)
    if lease <= timeout * 2:
        raise ConfigError("MARKETPLACE_WEBHOOKS_LEASE_SECONDS must be more than twice "
                          f"MARKETPLACE_WEBHOOKS_TIMEOUT_SECONDS ({lease} <= 2 x {timeout}).")
    return {
        "ALLOW_PRIVATE": _bool_setting(env, "WEBHOOKS_ALLOW_PRIVATE", relaxed),
        "ALLOW_HTTP": _bool_setting(env, "WEBHOOKS_ALLOW_HTTP", relaxed),
        "MAX_ATTEMPTS": _int_setting(env, "WEBHOOKS_MAX_ATTEMPTS", 8, 1, 50),
        "TIMEOUT_SECONDS": timeout,
        "LEASE_SECONDS": lease,
        "BACKOFF": tuple(int(step) for step in steps),
        "BATCH": _int_setting(env, "WEBHOOKS_BATCH", 50, 1, 1000),
        "INTERVAL_SECONDS": _int_setting(env, "WEBHOOKS_INTERVAL_SECONDS", 5, 1, 3600),
        # With Redis, a commit that emitted events also queues an RQ job that sends them at once.
        "REDIS_URL": env.get("MARKETPLACE_REDIS_URL", "").strip(),
        "QUEUE": env.get("MARKETPLACE_WEBHOOKS_QUEUE", "pasarkube-webhooks").strip() or "pasarkube-webhooks",
    }


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
        # How long each app process keeps the "N products" total of a public product list (0: count on every
        # request). Counting ~100,000 published products costs more than the whole rest of the page.
        "CATALOG_TOTALS_SECONDS": _int_setting(env, "CATALOG_TOTALS_SECONDS", 30, 0, 3600),
        "GRADUATION": _graduation(env),
        "WEBHOOKS": _webhooks(env, env_name),
        **_security(env, instance),
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


def check_media_roots(config: Mapping[str, Any]) -> None:
    """Private photos (receipts, field visits) must not sit where /media serves every file."""
    public = Path(config["MEDIA_ROOT"]).resolve()
    private = Path(config["PRIVATE_MEDIA_ROOT"]).resolve()
    if private == public or public in private.parents or private in public.parents:
        raise ConfigError("MARKETPLACE_PRIVATE_MEDIA_ROOT must be outside MARKETPLACE_MEDIA_ROOT (and not contain "
                          "it): everything under the media root is served to anyone at /media.")


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start a production app with settings that are only safe on a laptop."""
    if config.get("ENV_NAME") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY) or len(str(config["SECRET_KEY"])) < 16:
        raise ConfigError(
            "MARKETPLACE_SECRET_KEY must be set to a long random value in production "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if not str(config.get("BASE_URL") or "").startswith(("https://", "http://")):
        # Otherwise a password-reset link would point at whatever Host the request claimed: an attacker's site.
        raise ConfigError("MARKETPLACE_BASE_URL must be set in production to the site's own address "
                          "(e.g. https://pasarkube.id): links in e-mails start with it.")
    if not config.get("SMTP_HOST") and not config.get("MAIL_DIR_CHOSEN"):
        raise ConfigError("MARKETPLACE_SMTP_HOST must be set in production, or no password-reset e-mail ever "
                          "leaves the server. To keep mail as files on purpose, set MARKETPLACE_MAIL_DIR instead.")
