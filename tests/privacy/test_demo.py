"""The demo's members carry plausible fake NIKs: from their KUBE's kecamatan code, a birth date and a running
number, the same on every load."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Kube, KubeMember
from marketplace.demo.loader import load_demo
from marketplace.privacy.personal import clean_nik


def test_demo_members_have_plausible_deterministic_niks(app: Flask, session: Session) -> None:
    load_demo(session, app.config["MEDIA_ROOT"], image_scale=0.1, history=False)
    session.commit()
    first = {(m.kube_id, m.user_id): m.nik for m in session.scalars(select(KubeMember))}
    assert len(first) > 50
    for kube in session.scalars(select(Kube)):
        niks = [m.nik for m in kube.members]
        assert all(niks) and len(set(niks)) == len(niks), kube.name
        for nik in niks:
            assert nik is not None and clean_nik(nik) == nik
            assert nik.startswith(kube.district_code.replace(".", "")), (kube.name, nik)
    # A member loaded before NIKs existed gets theirs; a second load changes none.
    some = session.scalars(select(KubeMember).order_by(KubeMember.id)).first()
    assert some is not None
    expected, some.nik = some.nik, None
    session.commit()
    load_demo(session, app.config["MEDIA_ROOT"], image_scale=0.1, history=False)
    session.commit()
    session.expire_all()
    assert {(m.kube_id, m.user_id): m.nik for m in session.scalars(select(KubeMember))} == first
    assert session.get(KubeMember, some.id).nik == expected  # type: ignore[union-attr]
