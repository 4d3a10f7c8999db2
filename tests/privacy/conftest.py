"""Privacy fixtures: bearer tokens through the real token endpoint, and NIKs entered for KUBE A's members."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeMember
from tests import factories
from tests.factories import World

# Plausible NIKs of Kabupaten Banggai (72.01) and Kabupaten Bandung (32.04).
NIK_KETUA_A = "7201015507850001"
NIK_ANGGOTA_A = "7201011203900002"
NIK_KETUA_B = "3204054101800001"


@pytest.fixture
def bearer(client: FlaskClient) -> Callable[[str], dict[str, str]]:
    """bearer("ketua_a") -> the Authorization header of a fresh token of that user."""

    def _header(who: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/token",
                               json={"email": factories.email_of(who), "password": factories.PASSWORD})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return _header


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
