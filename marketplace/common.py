"""Small pieces every feature uses: domain errors, UTC time, slugs, a translation marker.

Nothing here imports flask, so services may use all of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")


def N_(message: str) -> str:
    """Mark a message for translation; the view translates it when it is shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form for translation (translated with ngettext where shown)."""
    return singular, plural


def utcnow() -> datetime:
    """Timezone-aware now in UTC (use as a callable default, never evaluated at import)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DomainError(Exception):
    """A rule was broken. `message` is an English msgid (translated by the view) with %(name)s params."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class ValidationError(DomainError):
    code = "invalid"
    status = 400


class NotFoundError(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class ConflictError(DomainError):
    code = "conflict"
    status = 409


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with the total count of the whole list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def slugify(text: str, max_length: int = 120) -> str:
    """ASCII slug: 'Minyak Kelapa Murni (VCO)' -> 'minyak-kelapa-murni-vco'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_STRIP.sub("-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def clean_text(value: object, *, field: str, max_length: int, required: bool = True) -> str:
    """Strip a text value and check its length; raises ValidationError with the field name."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(N_("This field is required."), field=field)
    if len(text) > max_length:
        raise ValidationError(
            N_("Must be at most %(max)d characters."), field=field, max=max_length
        )
    return text


def clean_int(value: object, *, field: str, minimum: int = 0, maximum: int = 10**12) -> int:
    """Parse a whole number (int or digit string); bool, floats with fractions and text are refused."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(N_("Enter a whole number."), field=field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(N_("Enter a whole number."), field=field)
        number = int(value)
    else:
        text = str(value).strip()
        if len(text) > 24 or not text.isascii():  # "²" is a digit to Python but no number to int()
            raise ValidationError(N_("Enter a whole number."), field=field)
        if _THOUSANDS.fullmatch(text):  # "15.000" as Indonesians write it
            text = text.replace(".", "")
        if not re.fullmatch(r"-?\d+", text):
            raise ValidationError(N_("Enter a whole number."), field=field)
        number = int(text)
    if number < minimum:
        raise ValidationError(N_("Must be at least %(min)d."), field=field, min=minimum)
    if number > maximum:
        raise ValidationError(N_("Must be at most %(max)d."), field=field, max=maximum)
    return number


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula (CSV injection: =, +, -, @, tab or CR at the start,
    after any spaces): such text gets a leading apostrophe. Other values pass unchanged."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
