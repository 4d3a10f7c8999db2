"""Operator pages through the test client: overview, categories, users and roles, facilitator assignments."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import Category, FacilitatorAssignment
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")


def _category(session: Session, **where: object) -> Category | None:
    session.expire_all()
    return session.scalar(select(Category).filter_by(**where))


def _categories(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Category.id))) or 0


def _user(session: Session, user_id: int) -> User:
    session.expire_all()
    user = session.get(User, user_id)
    assert user is not None
    return user


@pytest.mark.parametrize("url", ["/admin/", "/admin/categories", "/admin/users", "/admin/users?q=ketua&page=1"])
def test_pages_render_for_operator(world: World, login_as: Login, url: str) -> None:
    response = login_as("operator").get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>" not in html and 'style="' not in html


@pytest.mark.parametrize("who", ["buyer", "facilitator_a", "ketua_a", "order_taker"])
@pytest.mark.parametrize("url", ["/admin/", "/admin/categories", "/admin/users"])
def test_pages_forbidden_to_others(world: World, login_as: Login, who: str, url: str) -> None:
    assert login_as(who).get(url).status_code == 403


def test_pages_need_sign_in(world: World, client: FlaskClient) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_overview_counts(world: World, login_as: Login) -> None:
    html = login_as("operator").get("/admin/").get_data(as_text=True)
    assert "Users" in html and ">8<" in html  # the world's eight users


# --- Categories -------------------------------------------------------------------------------------


def test_category_crud(world: World, session: Session, login_as: Login) -> None:
    client = login_as("operator")
    data = {"action": "create", "new-name_id": "Kerajinan", "new-name_en": "Crafts", "new-icon": "🧺",
            "new-position": "3"}
    assert client.post("/admin/categories", data=data).status_code == 302
    parent = _category(session, name_en="Crafts")
    assert parent is not None and parent.slug == "crafts" and parent.position == 3
    parent_id = parent.id
    data = {"action": "create", "new-name_id": "Anyaman", "new-name_en": "Weaving",
            "new-parent_id": str(parent_id)}
    assert client.post("/admin/categories", data=data).status_code == 302
    child = _category(session, name_en="Weaving")
    assert child is not None and child.parent_id == parent_id
    child_id = child.id
    html = client.get("/admin/categories").get_data(as_text=True)
    assert "Kerajinan" in html and "Anyaman" in html

    data = {"action": "update", "category_id": str(child_id), "name_id": "Anyaman Pandan",
            "name_en": "Pandan weaving", "parent_id": str(parent_id), "icon": "", "position": "1"}
    assert client.post("/admin/categories", data=data).status_code == 302
    child = _category(session, id=child_id)
    assert child is not None and child.name_en == "Pandan weaving" and child.parent_id == parent_id

    assert client.post("/admin/categories", data={"action": "delete", "category_id": str(child_id)}).status_code \
        == 302
    assert _category(session, id=child_id) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new-name_id": "", "new-name_en": "Crafts"}, "This field is required."),
        ({"new-name_id": "Kerajinan", "new-name_en": "   "}, "This field is required."),
        ({"new-name_id": "K", "new-name_en": "C", "new-position": "abc"}, "Not a valid integer value."),
        ({"new-name_id": "K", "new-name_en": "C", "new-position": "-1"}, "Number must be"),
        ({"new-name_id": "K", "new-name_en": "C", "new-parent_id": "999999"}, "Choose a top-level category"),
    ],
)
def test_category_bad_input_saves_nothing(
    world: World, session: Session, login_as: Login, data: dict[str, str], message: str
) -> None:
    before = _categories(session)
    response = login_as("operator").post("/admin/categories", data={"action": "create", **data})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _categories(session) == before


def test_category_in_use_cannot_be_deleted(world: World, session: Session, login_as: Login) -> None:
    response = login_as("operator").post("/admin/categories",
                                         data={"action": "delete", "category_id": str(world.category.id)})
    assert response.status_code == 200
    assert "still has products" in response.get_data(as_text=True)
    assert _category(session, slug="coconut") is not None


def test_category_rename_with_empty_name(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "update", "category_id": str(world.category.id), "name_id": "", "name_en": "X"}
    response = login_as("operator").post("/admin/categories", data=data)
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    assert _category(session, slug="coconut").name_en == "Coconut"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["buyer", "facilitator_a", "ketua_a"])
def test_category_changes_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    before = _categories(session)
    client = login_as(who)
    create = {"action": "create", "new-name_id": "X", "new-name_en": "X"}
    assert client.post("/admin/categories", data=create).status_code == 403
    rename = {"action": "update", "category_id": str(world.category.id), "name_id": "X", "name_en": "X"}
    assert client.post("/admin/categories", data=rename).status_code == 403
    delete = {"action": "delete", "category_id": str(world.category.id)}
    assert client.post("/admin/categories", data=delete).status_code == 403
    assert _categories(session) == before
    assert _category(session, slug="coconut").name_en == "Coconut"  # type: ignore[union-attr]


def test_unknown_category_action_is_a_bad_request(world: World, login_as: Login) -> None:
    assert login_as("operator").post("/admin/categories", data={"action": "explode"}).status_code == 400


# --- Users and roles --------------------------------------------------------------------------------


def test_user_search_and_pages(world: World, session: Session, login_as: Login) -> None:
    client = login_as("operator")
    html = client.get("/admin/users?q=ketua").get_data(as_text=True)
    assert "ketua_a@test.pasarkube" in html and "buyer@test.pasarkube" not in html
    for n in range(30):
        factories.make_user(session, f"extra{n:02d}")
    session.commit()
    html = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in html
    assert "extra29@" in client.get("/admin/users?page=2").get_data(as_text=True)
    assert client.get("/admin/users?page=abc").status_code == 200


def test_role_toggles(world: World, session: Session, login_as: Login) -> None:
    buyer_id = world.buyer.id
    version = world.buyer.auth_version
    client = login_as("operator")
    data = {"action": "roles", "user_id": str(buyer_id), "is_facilitator": "y"}
    assert client.post("/admin/users?q=buyer", data=data).status_code == 302
    buyer = _user(session, buyer_id)
    assert (buyer.is_facilitator, buyer.is_operator, buyer.is_disabled) == (True, False, False)
    data = {"action": "roles", "user_id": str(buyer_id), "is_disabled": "y"}
    assert client.post("/admin/users", data=data).status_code == 302
    buyer = _user(session, buyer_id)
    assert (buyer.is_facilitator, buyer.is_disabled) == (False, True)
    assert buyer.auth_version == version + 1  # signed out everywhere


def test_operator_cannot_demote_self(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "roles", "user_id": str(world.operator.id), "is_facilitator": "y"}
    response = login_as("operator").post("/admin/users", data=data)
    assert response.status_code == 200 and "your own operator role" in response.get_data(as_text=True)
    assert _user(session, world.operator.id).is_operator


@pytest.mark.parametrize("user_id", ["", "abc", "999999"])
def test_role_toggle_bad_user(world: World, login_as: Login, user_id: str) -> None:
    response = login_as("operator").post("/admin/users", data={"action": "roles", "user_id": user_id})
    assert response.status_code in (200, 404)


@pytest.mark.parametrize("who", ["buyer", "facilitator_a"])
def test_role_toggles_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    me = getattr(world, who).id
    data = {"action": "roles", "user_id": str(me), "is_operator": "y", "is_facilitator": "y"}
    assert login_as(who).post("/admin/users", data=data).status_code == 403
    assert not _user(session, me).is_operator


def test_assign_and_unassign_facilitator(world: World, session: Session, login_as: Login) -> None:
    kube_id, facilitator_id = world.kube_a.id, world.facilitator_b.id
    client = login_as("operator")
    data = {"action": "assign", "assign-kube_id": str(kube_id), "assign-facilitator_id": str(facilitator_id)}
    assert client.post("/admin/users", data=data).status_code == 302
    session.expire_all()
    pair = select(FacilitatorAssignment).where(FacilitatorAssignment.kube_id == kube_id,
                                               FacilitatorAssignment.facilitator_id == facilitator_id)
    assert session.scalar(pair) is not None
    assert "KUBE Kelapa A" in client.get("/admin/users").get_data(as_text=True)
    data = {"action": "unassign", "kube_id": str(kube_id), "facilitator_id": str(facilitator_id)}
    assert client.post("/admin/users", data=data).status_code == 302
    session.expire_all()
    assert session.scalar(pair) is None


def test_assign_a_non_facilitator_is_refused(world: World, session: Session, login_as: Login) -> None:
    before = session.scalar(select(func.count(FacilitatorAssignment.id)))
    data = {"action": "assign", "assign-kube_id": str(world.kube_a.id), "assign-facilitator_id": str(world.buyer.id)}
    response = login_as("operator").post("/admin/users", data=data)
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count(FacilitatorAssignment.id))) == before


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_a"])
def test_assignments_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    before = session.scalar(select(func.count(FacilitatorAssignment.id)))
    data = {"action": "assign", "assign-kube_id": str(world.kube_a.id),
            "assign-facilitator_id": str(world.facilitator_b.id)}
    assert login_as(who).post("/admin/users", data=data).status_code == 403
    data = {"action": "unassign", "kube_id": str(world.kube_a.id), "facilitator_id": str(world.facilitator_a.id)}
    assert login_as(who).post("/admin/users", data=data).status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count(FacilitatorAssignment.id))) == before


def test_deleting_and_unassigning_ask_first(world: World, login_as: Login) -> None:
    client = login_as("operator")
    html = client.get("/admin/categories").get_data(as_text=True)
    assert 'data-confirm="Delete the category Coconut?"' in html and 'aria-label="Delete Coconut"' in html
    html = client.get("/admin/users").get_data(as_text=True)
    assert 'data-confirm="Unassign Facilitator A from KUBE Kelapa A?"' in html
    assert 'aria-label="Unassign Facilitator A from KUBE Kelapa A"' in html
