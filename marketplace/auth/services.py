"""Accounts: sign-up, sign-in checks, profiles, API tokens and role changes. No flask here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, case, func, literal, null, or_, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace import regions
from marketplace.audit import services as audit
from marketplace.auth.models import ApiToken, OrderTakerProfile, User
from marketplace.common import (
    N_,
    ConflictError,
    DomainError,
    NotFoundError,
    Page,
    PermissionDenied,
    UTCDateTime,
    ValidationError,
    clean_text,
    utcnow,
)

MIN_PASSWORD_LENGTH = 8
# A real hash to compare against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def normalize_email(value: str, *, field: str = "email") -> str:
    """Lower-cased, syntax-checked address (no DNS look-up)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except (EmailNotValidError, AttributeError):
        raise ValidationError(N_("Enter a valid e-mail address."), field=field) from None


def _check_password(password: str, field: str = "password") -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            N_("The password needs at least %(n)d characters."), field=field, n=MIN_PASSWORD_LENGTH
        )
    if len(password) > 200:
        raise ValidationError(N_("Must be at most %(max)d characters."), field=field, max=200)
    return password


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def register_user(
    session: Session, *, email: str, password: str, name: str, phone: str | None = None
) -> User:
    """Create a buyer account. Raises ValidationError or ConflictError (e-mail taken)."""
    address = normalize_email(email)
    display = clean_text(name, field="name", max_length=120)
    _check_password(password)
    if user_by_email(session, address) is not None:
        raise ConflictError(N_("An account with this e-mail already exists."), field="email")
    user = User(
        email=address,
        name=display,
        phone=clean_text(phone, field="phone", max_length=30, required=False) or None,
        password_hash=generate_password_hash(password),
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class LockoutPolicy:
    """After `attempts` failed sign-ins within `window`, an account refuses sign-in for `duration`."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LockoutPolicy:
        return cls(attempts=int(config["LOCKOUT_ATTEMPTS"]),
                   window=timedelta(minutes=int(config["LOCKOUT_WINDOW_MINUTES"])),
                   duration=timedelta(minutes=int(config["LOCKOUT_MINUTES"])))


class AccountLocked(DomainError):
    """Too many failed sign-ins: the account refuses every sign-in, right password or not, until `locked_until`.

    The caller commits before showing it (the failure that locked the account must be saved)."""

    code = "account_locked"
    status = 403

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(N_("Too many failed sign-ins: this account is locked until %(until)s. "
                            "Try again then, or reset the password by e-mail."), until=locked_until)
        self.locked_until = locked_until


def _count_failure(session: Session, user: User, policy: LockoutPolicy, moment: datetime) -> None:
    """Count one failed sign-in in a single UPDATE, so that parallel guesses each count (a read-add-write in Python
    would let them all write the same number), and lock the account in the same statement once the count reaches
    the limit. A count older than the window, or from before a lock that has run out, starts again at 1."""
    moment_value = literal(moment, UTCDateTime())
    lock_end = literal(moment + policy.duration, UTCDateTime())
    fresh = or_(User.failed_logins_since.is_(None), User.failed_logins_since < moment - policy.window,
                and_(User.locked_until.is_not(None), User.locked_until <= moment))
    counted = case((fresh, 1), else_=User.failed_logins + 1)
    still_locked = and_(User.locked_until.is_not(None), User.locked_until > moment)
    session.execute(
        update(User).where(User.id == user.id).values(
            failed_logins=counted,
            failed_logins_since=case((fresh, moment_value), else_=User.failed_logins_since),
            # SET expressions all see the row as it was, so `counted` is the new count here too.
            locked_until=case((still_locked, User.locked_until), (counted >= policy.attempts, lock_end),
                              else_=null()),
        ).execution_options(synchronize_session=False)
    )
    session.refresh(user, ["failed_logins", "failed_logins_since", "locked_until"])
    if user.locked_until is not None and user.locked_until > moment:
        raise AccountLocked(user.locked_until)


def _clear_lockout(user: User) -> None:
    user.failed_logins, user.failed_logins_since, user.locked_until = 0, None, None


def authenticate(
    session: Session, email: str, password: str, *, policy: LockoutPolicy | None = None,
    now: datetime | None = None,
) -> User | None:
    """The user whose e-mail and password match, or None. Disabled accounts never match.

    Failures count against the account (unknown addresses have none to count against and simply get None):
    past `policy.attempts` within the window, and while locked, AccountLocked is raised. The caller commits
    either way, so that the count is kept."""
    policy = policy or LockoutPolicy()
    moment = now or utcnow()
    user = user_by_email(session, email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if user.locked_until is not None and user.locked_until > moment:
        raise AccountLocked(user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        _count_failure(session, user, policy, moment)
        return None
    if user.is_disabled:
        return None
    _clear_lockout(user)
    user.last_login_at = moment
    return user


def load_user(session: Session, user_id: str) -> User | None:
    """Resolve a Flask-Login id "<id>.<auth_version>"; stale versions are rejected."""
    raw_id, _, version = user_id.partition(".")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(raw_id))
    if user is None or user.auth_version != int(version):
        return None
    return user


@dataclass
class ProfileInput:
    name: str
    phone: str | None = None
    locale: str | None = None


def update_profile(session: Session, user: User, data: ProfileInput) -> User:
    user.name = clean_text(data.name, field="name", max_length=120)
    user.phone = clean_text(data.phone, field="phone", max_length=30, required=False) or None
    if data.locale not in (None, "", "id", "en"):
        raise ValidationError(N_("Unknown language."), field="locale")
    user.locale = data.locale or None
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change a password; every other session and API token stops working."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError(N_("The current password is wrong."), field="current_password")
    _set_password(session, user, new, field="new_password")


def _set_password(session: Session, user: User, new: str, *, field: str) -> None:
    """A new password signs the account out everywhere: sessions, remember-cookies and API tokens."""
    user.password_hash = generate_password_hash(_check_password(new, field=field))
    user.auth_version += 1
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        token.revoked = True
    session.flush()


# --- Password reset by e-mail ------------------------------------------------------------------------

RESET_SALT = "pasar-kube.password-reset"
_BAD_RESET_LINK = N_("This password reset link is invalid, already used or expired. Ask for a new one.")


def _reset_fingerprint(user: User) -> str:
    """Changes whenever the password does (the hash is salted anew) or the account is signed out everywhere,
    so a link works once and never after a newer password."""
    return hashlib.sha256(f"{user.id}:{user.auth_version}:{user.password_hash}".encode()).hexdigest()[:32]


def user_for_password_reset(session: Session, email: str) -> User | None:
    """Whom to send a reset link to: an active account with that e-mail, else None (the page says the same)."""
    try:
        address = normalize_email(email)
    except ValidationError:
        # email-validator refuses special-use domains (the demo's .test addresses) that sign-in accepts: look the
        # address up as typed, like sign-in does.
        address = (email or "").strip()
    user = user_by_email(session, address)
    return user if user is not None and not user.is_disabled else None


def password_reset_token(user: User, *, secret_key: str) -> str:
    """A signed, timestamped token naming the user and the current password's fingerprint."""
    serializer = URLSafeTimedSerializer(secret_key, salt=RESET_SALT)
    return str(serializer.dumps([user.id, _reset_fingerprint(user)]))


def user_for_reset_token(session: Session, token: str, *, secret_key: str, max_age: timedelta) -> User:
    """The user a reset link is for; ValidationError when forged, expired, used or outdated."""
    serializer = URLSafeTimedSerializer(secret_key, salt=RESET_SALT)
    try:
        payload = serializer.loads(token or "", max_age=int(max_age.total_seconds()))
    except BadData:
        raise ValidationError(_BAD_RESET_LINK) from None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)
            and not isinstance(payload[0], bool) and isinstance(payload[1], str)):
        raise ValidationError(_BAD_RESET_LINK)
    user = session.get(User, payload[0]) if 0 < payload[0] < 2**31 else None
    if user is None or user.is_disabled or not hmac.compare_digest(payload[1], _reset_fingerprint(user)):
        raise ValidationError(_BAD_RESET_LINK)
    return user


def reset_password(session: Session, token: str, new_password: str, *, secret_key: str,
                   max_age: timedelta) -> User:
    """Set a new password from a reset link: the link stops working, every session and API token of the
    account is signed out, and a lockout ends (whoever holds the mailbox owns the account)."""
    user = user_for_reset_token(session, token, secret_key=secret_key, max_age=max_age)
    _set_password(session, user, new_password, field="password")
    _clear_lockout(user)
    session.flush()
    return user


@dataclass
class OrderTakerInput:
    company_name: str
    business_field: str = ""
    npwp: str | None = None
    address: str = ""
    province_code: str | None = None
    website: str | None = None


def save_order_taker_profile(session: Session, user: User, data: OrderTakerInput) -> OrderTakerProfile:
    """Create or update the user's company profile; having one makes the user an order taker."""
    profile = user.order_taker_profile or OrderTakerProfile(user=user)
    profile.company_name = clean_text(data.company_name, field="company_name", max_length=160)
    profile.business_field = clean_text(
        data.business_field, field="business_field", max_length=160, required=False
    )
    npwp = clean_text(data.npwp, field="npwp", max_length=25, required=False)
    digits = "".join(ch for ch in npwp if ch.isdigit())
    if npwp and len(digits) not in (15, 16):
        raise ValidationError(N_("An NPWP has 15 or 16 digits."), field="npwp")
    profile.npwp = npwp or None
    profile.address = clean_text(data.address, field="address", max_length=500, required=False)
    if data.province_code and (regions.region(data.province_code) is None or len(data.province_code) != 2):
        raise ValidationError(N_("Choose a province from the list."), field="province_code")
    profile.province_code = data.province_code or None
    profile.website = clean_text(data.website, field="website", max_length=200, required=False) or None
    session.add(profile)
    session.flush()
    return profile


# --- API tokens -------------------------------------------------------------------------------------


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(session: Session, user: User, *, days: int = 30) -> tuple[str, ApiToken]:
    """A new bearer token; the raw value is returned once and only its hash is stored."""
    raw = "pk_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=_hash_token(raw), expires_at=utcnow() + timedelta(days=days))
    session.add(token)
    session.flush()
    return raw, token


def user_for_token(session: Session, raw: str, *, now: datetime | None = None) -> User | None:
    """The active user behind a bearer token, or None when unknown, expired or revoked."""
    if not raw:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(raw)))
    moment = now or utcnow()
    if token is None or token.revoked or token.expires_at <= moment or token.user.is_disabled:
        return None
    token.last_used_at = moment
    return token.user


# --- Operators --------------------------------------------------------------------------------------


def _require_operator(actor: User) -> None:
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))


def list_users(session: Session, actor: User, *, q: str = "", page: int = 1, per_page: int = 50) -> Page[User]:
    _require_operator(actor)
    stmt = select(User)
    if q:
        text = q.strip().lower()
        stmt = stmt.where(or_(func.lower(User.email).contains(text, autoescape=True),
                              func.lower(User.name).contains(text, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.options(selectinload(User.memberships), selectinload(User.order_taker_profile))
        .order_by(User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def unlock_user(session: Session, actor: User, user_id: int) -> User:
    """An operator ends a lockout early (the owner called to say the failed sign-ins were theirs)."""
    _require_operator(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(N_("User not found."))
    locked_until = user.locked_until
    _clear_lockout(user)
    audit.record(session, actor, "user.unlocked", user, locked_until={"from": locked_until, "to": None})
    session.flush()
    return user


def set_user_roles(
    session: Session,
    actor: User,
    user_id: int,
    *,
    is_operator: bool,
    is_facilitator: bool,
    is_disabled: bool,
    is_ministry: bool = False,
) -> User:
    """An operator grants or removes platform roles, or disables an account."""
    _require_operator(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(N_("User not found."))
    if user.id == actor.id and (not is_operator or is_disabled):
        raise ValidationError(N_("You cannot remove your own operator role or disable yourself."))
    if is_disabled and not user.is_disabled:
        user.auth_version += 1  # signs the account out everywhere
    roles = {"is_operator": is_operator, "is_facilitator": is_facilitator, "is_ministry": is_ministry,
             "is_disabled": is_disabled}
    if changed := audit.changes({name: getattr(user, name) for name in roles}, roles):
        audit.record(session, actor, "user.roles_changed", user, **changed)
    user.is_operator = is_operator
    user.is_facilitator = is_facilitator
    user.is_ministry = is_ministry
    user.is_disabled = is_disabled
    session.flush()
    return user
