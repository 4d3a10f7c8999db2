"""Members' NIK: how it is checked, who enters it, and who sees it in full, masked or not at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog import services
from marketplace.common import ConflictError, PermissionDenied, ValidationError
from marketplace.privacy.personal import clean_nik, mask_account, mask_nik
from tests import factories
from tests.factories import World
from tests.privacy.conftest import NIK_ANGGOTA_A, NIK_KETUA_A, NIK_KETUA_B, member_of

Login = Callable[[str], FlaskClient]
Bearer = Callable[[str], dict[str, str]]
MASKED_KETUA_A = "7201\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001"
MASKED_ANGGOTA_A = "7201\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220002"


# --- Checking a NIK -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["7201011203900002", " 7201011203900002 ", "7201 0112 0390 0002",
                                   "7201-01-120390-0002", "72.01.01.120390.0002"])
def test_a_nik_is_16_digits_with_separators_dropped(typed: str) -> None:
    assert clean_nik(typed) == "7201011203900002"


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_an_empty_nik_is_not_known_yet(typed: str | None) -> None:
    assert clean_nik(typed) is None


@pytest.mark.parametrize("typed", [
    "720101120390000",  # 15 digits
    "72010112039000021",  # 17 digits
    "72",
    "72010112039O0002",  # a letter O
    "abcdefghijklmnop",
    "\uff17\uff12\uff10\uff11\uff10\uff11\uff11\uff12\uff10\uff13\uff19\uff10\uff10\uff10\uff10\uff12",  # fullwidth
    "\u0667\u0662\u0660\u0661\u0660\u0661\u0661\u0662\u0660\u0663\u0669\u0660\u0660\u0660\u0660\u0662",  # Arabic-Indic
    "7201011203900002\x00",
])
def test_a_nik_of_other_lengths_or_characters_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_nik(typed)
    assert refused.value.field == "nik" and "16 digits" in refused.value.message


@pytest.mark.parametrize("typed", ["9901011203900002", "0001011203900002", "1001011203900002"])
def test_a_nik_starts_with_a_real_province_code(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_nik(typed)
    assert "province" in refused.value.message and refused.value.params["code"] == typed[:2]


def test_a_nik_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValidationError):
        clean_nik(7201011203900002)


def test_masks_keep_only_what_tells_apart() -> None:
    assert mask_nik("7201011203900003") == "7201\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220003"
    assert mask_nik(None) == "" and mask_nik("1234") == "\u2022\u2022\u2022\u2022"
    assert mask_account("0123456789012") == "\u2022" * 9 + "9012"
    assert mask_account("123") == "\u2022\u2022\u2022" and mask_account(None) == ""


# --- Entering it (services) ----------------------------------------------------------------------------


def test_officers_add_a_member_with_a_nik_once_per_kube(session: Session, world: World) -> None:
    newcomer = factories.make_user(session, "newcomer")
    member = services.add_member(session, world.ketua_a, world.kube_a.id, email=newcomer.email, role="anggota",
                                 nik="7201 0112 0390 0009")
    assert member.nik == "7201011203900009"
    other = factories.make_user(session, "other")
    with pytest.raises(ConflictError) as taken:
        services.add_member(session, world.ketua_a, world.kube_a.id, email=other.email, role="anggota",
                            nik="7201011203900009")
    assert taken.value.field == "nik"
    # Unique per KUBE is enough: another KUBE may list the same household.
    services.add_member(session, world.ketua_b, world.kube_b.id, email=other.email, role="anggota",
                        nik="7201011203900009")
    with pytest.raises(ValidationError):
        services.add_member(session, world.ketua_a, world.kube_a.id, email=other.email, role="anggota",
                            nik="1234")


@pytest.mark.parametrize("who", ["ketua_a", "facilitator_a", "operator"])
def test_officers_facilitators_and_operators_enter_and_clear_a_nik(session: Session, world: World,
                                                                   who: str) -> None:
    member = member_of(session, world.anggota_a.id)
    services.set_member_nik(session, getattr(world, who), member.id, NIK_ANGGOTA_A)
    assert member.nik == NIK_ANGGOTA_A
    services.set_member_nik(session, getattr(world, who), member.id, "")
    assert member.nik is None


@pytest.mark.parametrize("who", ["anggota_a", "buyer", "ketua_b", "facilitator_b", "order_taker"])
def test_others_cannot_enter_a_nik(session: Session, world: World, who: str) -> None:
    member = member_of(session, world.ketua_a.id)
    with pytest.raises(PermissionDenied):
        services.set_member_nik(session, getattr(world, who), member.id, NIK_KETUA_A)
    assert member.nik is None


def test_two_members_of_a_kube_never_share_a_nik(session: Session, niks: World) -> None:
    member = member_of(session, niks.anggota_a.id)
    with pytest.raises(ConflictError):
        services.set_member_nik(session, niks.ketua_a, member.id, NIK_KETUA_A)
    services.set_member_nik(session, niks.ketua_a, member.id, NIK_ANGGOTA_A)  # its own NIK again is fine


# --- Who sees it ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "ketua", "anggota"), [
    ("ketua_a", NIK_KETUA_A, NIK_ANGGOTA_A),
    ("facilitator_a", NIK_KETUA_A, NIK_ANGGOTA_A),
    ("operator", NIK_KETUA_A, NIK_ANGGOTA_A),
    ("anggota_a", MASKED_KETUA_A, NIK_ANGGOTA_A),  # another member's masked, their own in full
    ("ketua_b", None, None),
    ("facilitator_b", None, None),
    ("buyer", None, None),
    ("order_taker", None, None),
    ("anonymous", None, None),
])
def test_who_sees_a_nik_in_full_masked_or_not_at_all(session: Session, niks: World, who: str,
                                                     ketua: str | None, anggota: str | None) -> None:
    viewer = None if who == "anonymous" else getattr(niks, who)
    shown = services.member_niks(session, viewer, niks.kube_a)
    assert shown.get(member_of(session, niks.ketua_a.id).id) == ketua
    assert shown.get(member_of(session, niks.anggota_a.id).id) == anggota
    assert NIK_KETUA_B not in shown.values()


def _page_shows(html: str) -> tuple[bool, bool, bool]:
    """(full NIK, masked NIK, masked of another member) of KUBE A's ketua on a page."""
    return NIK_KETUA_A in html, MASKED_KETUA_A in html, "7201\u2022" in html


@pytest.mark.parametrize(("who", "full", "masked"), [
    ("ketua_a", True, False), ("facilitator_a", True, False), ("operator", True, False),
    ("anggota_a", False, True), ("ketua_b", False, False), ("buyer", False, False),
    ("facilitator_b", False, False),
])
def test_the_kube_page_member_list(client: FlaskClient, login_as: Login, niks: World, who: str, full: bool,
                                   masked: bool) -> None:
    html = login_as(who).get(f"/kube/{niks.kube_a.slug}").get_data(as_text=True)
    assert (NIK_KETUA_A in html, MASKED_KETUA_A in html) == (full, masked)
    assert (NIK_ANGGOTA_A in html) == (who in {"ketua_a", "facilitator_a", "operator", "anggota_a"})
    assert NIK_KETUA_B not in html


def test_the_kube_page_for_a_visitor_has_no_nik(client: FlaskClient, niks: World) -> None:
    html = client.get(f"/kube/{niks.kube_a.slug}").get_data(as_text=True)
    assert NIK_KETUA_A not in html and MASKED_KETUA_A not in html and "7201\u2022" not in html


@pytest.mark.parametrize("who", ["ketua_a", "facilitator_a", "operator"])
def test_the_members_page_shows_it_in_full_to_those_who_manage(login_as: Login, niks: World, who: str) -> None:
    html = login_as(who).get(f"/my-kube/{niks.kube_a.slug}/profile").get_data(as_text=True)
    assert NIK_KETUA_A in html and NIK_ANGGOTA_A in html and NIK_KETUA_B not in html


@pytest.mark.parametrize("who", ["anggota_a", "buyer", "ketua_b", "facilitator_b"])
def test_the_members_page_is_closed_to_others(login_as: Login, niks: World, who: str) -> None:
    response = login_as(who).get(f"/my-kube/{niks.kube_a.slug}/profile")
    assert response.status_code in (403, 404)
    assert NIK_KETUA_A not in response.get_data(as_text=True)


@pytest.mark.parametrize(("who", "ketua"), [
    ("ketua_a", NIK_KETUA_A), ("facilitator_a", NIK_KETUA_A), ("operator", NIK_KETUA_A),
    ("anggota_a", MASKED_KETUA_A), ("ketua_b", "absent"), ("buyer", "absent"), ("anonymous", "absent"),
])
def test_the_kube_api(client: FlaskClient, bearer: Bearer, niks: World, who: str, ketua: str) -> None:
    headers = {} if who == "anonymous" else bearer(who)
    response = client.get(f"/api/v1/kubes/{niks.kube_a.slug}", headers=headers)
    body = response.get_json()
    assert response.status_code == 200
    if ketua == "absent":
        assert "members" not in body
        assert NIK_KETUA_A not in response.get_data(as_text=True)
        assert "7201\u2022" not in response.get_data(as_text=True)
    else:
        shown = {m["name"]: m["nik"] for m in body["members"]}
        assert shown[niks.ketua_a.name] == ketua


# --- The members page form -----------------------------------------------------------------------------


def test_the_members_page_saves_and_refuses_a_nik(session: Session, login_as: Login, world: World) -> None:
    ketua = login_as("ketua_a")
    member = member_of(session, world.anggota_a.id)
    url = f"/my-kube/{world.kube_a.slug}/members/{member.id}/nik"
    bad = ketua.post(url, data={f"nik{member.id}-nik": "9901011203900002"}, follow_redirects=True)
    text = bad.get_data(as_text=True).lower()
    assert bad.status_code == 200 and ("province" in text or "provinsi" in text)
    session.expire_all()
    assert member_of(session, world.anggota_a.id).nik is None
    good = ketua.post(url, data={f"nik{member.id}-nik": "7201 0112 0390 0002"})
    assert good.status_code == 302
    session.expire_all()
    assert member_of(session, world.anggota_a.id).nik == NIK_ANGGOTA_A


def test_a_member_is_added_with_a_nik_from_the_members_page(session: Session, login_as: Login,
                                                           world: World) -> None:
    response = login_as("ketua_a").post(f"/my-kube/{world.kube_a.slug}/profile", data={
        "action": "member", "member-email": world.buyer.email, "member-role": "anggota",
        "member-nik": "7201011203900007"})
    assert response.status_code == 302
    assert member_of(session, world.buyer.id).nik == "7201011203900007"
    page = login_as("ketua_a").post(f"/my-kube/{world.kube_a.slug}/profile", data={
        "action": "member", "member-email": world.order_taker.email, "member-role": "anggota",
        "member-nik": "７２０１０１１２０３９０００８"})
    assert page.status_code == 200 and "16" in page.get_data(as_text=True)
