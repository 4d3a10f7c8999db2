"""Plain helpers for sensitive personal data: a member's NIK and a bank account number. No flask here.

UU PDP No. 27/2022 counts a member's NIK and poverty status (members come from the poverty register) and
personal financial data among the data to show no more than needed: these helpers check a NIK as it is typed
and mask both where the full value is not needed.
"""

from __future__ import annotations

from marketplace import regions
from marketplace.common import N_, ValidationError

NIK_LENGTH = 16
MASK = "\u2022"  # a bullet, one per hidden digit


def clean_nik(value: object, *, field: str = "nik") -> str | None:
    """A NIK (Nomor Induk Kependudukan) as typed: 16 ASCII digits whose first two are a province code;
    spaces, dots and dashes between the groups are dropped. Empty gives None (not known yet)."""
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationError(N_("A NIK has 16 digits."), field=field)
    for separator in (" ", ".", "-"):
        text = text.replace(separator, "")
    if not text:
        return None
    # str.isdigit() accepts fullwidth and other scripts' digits: only 0-9 are a NIK's digits.
    if len(text) != NIK_LENGTH or not text.isascii() or not text.isdigit():
        raise ValidationError(N_("A NIK has 16 digits."), field=field)
    province = regions.region(text[:2])
    if province is None or province.level != 1:
        raise ValidationError(N_("A NIK starts with a province code: %(code)s is not one."), field=field,
                              code=text[:2])
    return text


def mask_nik(nik: str | None) -> str:
    """'7201011203900003' -> '7201••••••••0003': the kabupaten and the last digits, enough to tell members
    apart, not enough to use the number."""
    if not nik:
        return ""
    if len(nik) <= 8:
        return MASK * len(nik)
    return nik[:4] + MASK * (len(nik) - 8) + nik[-4:]


def mask_account(number: str | None) -> str:
    """A bank account number with all but its last 4 digits hidden ('••••••••9012')."""
    if not number:
        return ""
    if len(number) <= 4:
        return MASK * len(number)
    return MASK * (len(number) - 4) + number[-4:]
