"""Privacy fixtures: NIKs entered for KUBE A's members (bearer tokens come from tests/conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeMember
from tests.factories import World

# Plausible NIKs of Kabupaten Banggai (72.01) and Kabupaten Bandung (32.04).
NIK_KETUA_A = "7201015507850001"
NIK_ANGGOTA_A = "7201011203900002"
NIK_KETUA_B = "3204054101800001"


def member_of(session: Session, user_id: int) -> KubeMember:
    member = session.scalar(select(KubeMember).where(KubeMember.user_id == user_id))
    assert member is not None
    return member


@pytest.fixture
def niks(session: Session, world: World) -> World:
    """The world with the NIKs of KUBE A's ketua and anggota and KUBE B's ketua entered."""
    member_of(session, world.ketua_a.id).nik = NIK_KETUA_A
    member_of(session, world.anggota_a.id).nik = NIK_ANGGOTA_A
    member_of(session, world.ketua_b.id).nik = NIK_KETUA_B
    session.commit()
    return world
