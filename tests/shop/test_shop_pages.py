"""My KUBE pages through the test client: dashboard, product forms, stock, photos, profile, members."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import (
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
    ProductPhoto,
    ProductStatus,
)
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
A = "/my-kube/kube-kelapa-a"
B = "/my-kube/kube-anyaman-b"


def _product_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Keripik Pisang",
        "description": "Renyah, tanpa pengawet.",
        "category_id": str(world.category.id),
        "unit": "pak",
        "price": "12.500",
        "stock": "40",
        "min_order_qty": "2",
        "weight_grams": "250",
        "save": "1",
    }
    data.update(overrides)
    return data


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _product(session: Session, product_id: int) -> Product:
    session.expire_all()
    product = session.get(Product, product_id)
    assert product is not None
    return product


# --- Overview and dashboard -------------------------------------------------------------------------


def test_index_redirects_a_member_of_one_kube(world: World, login_as: Login) -> None:
    response = login_as("ketua_a").get("/my-kube/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(A)


def test_index_without_kube_is_friendly(world: World, login_as: Login) -> None:
    response = login_as("buyer").get("/my-kube/")
    assert response.status_code == 200
    assert "not in a KUBE yet" in response.get_data(as_text=True)


def test_index_needs_sign_in(world: World, client: FlaskClient) -> None:
    response = client.get("/my-kube/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "operator"])
def test_dashboard_renders_for_members_facilitator_operator(world: World, login_as: Login, who: str) -> None:
    response = login_as(who).get(A)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Minyak Kelapa A" in html and "Tas Anyaman B" not in html
    assert "Rp15.000" in html
    assert 'name="stock"' in html


def test_dashboard_filters_by_status(world: World, session: Session, login_as: Login) -> None:
    factories.make_product(session, world.kube_a, world.category, "Draft A", status=ProductStatus.DRAFT)
    session.commit()
    client = login_as("ketua_a")
    html = client.get(f"{A}?status=draft").get_data(as_text=True)
    assert "Draft A" in html and "Minyak Kelapa A" not in html
    html = client.get(f"{A}?status=published").get_data(as_text=True)
    assert "Minyak Kelapa A" in html and "Draft A" not in html
    assert client.get(f"{A}?status=nonsense").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("ketua_b", 403), ("buyer", 403), ("facilitator_b", 403)])
def test_dashboard_of_another_kube_is_forbidden(world: World, login_as: Login, who: str, status: int) -> None:
    assert login_as(who).get(A).status_code == status


def test_dashboard_of_a_draft_kube_is_hidden_from_outsiders(
    world: World, session: Session, login_as: Login
) -> None:
    factories.make_kube(session, "KUBE Baru", status=KubeStatus.DRAFT, members=[(world.ketua_a, MemberRole.KETUA)])
    session.commit()
    assert login_as("ketua_b").get("/my-kube/kube-baru").status_code == 404
    assert login_as("ketua_a").get("/my-kube/kube-baru").status_code == 200


def test_dashboard_queries_do_not_grow_with_products(
    world: World, session: Session, login_as: Login, count_queries: Callable[[], Any]
) -> None:
    client = login_as("ketua_a")
    session.expire_all()
    with count_queries() as few:
        assert client.get(A).status_code == 200
    for n in range(8):
        product = factories.make_product(session, world.kube_a, world.category, f"Produk Banyak {n}")
        session.add(ProductPhoto(product_id=product.id, key=f"k{n:031d}", width=10, height=10))
    session.commit()
    session.expire_all()
    with count_queries() as many:
        assert client.get(A).status_code == 200
    assert many.count == few.count, "\n".join(many.statements)


# --- Creating and editing products ------------------------------------------------------------------


def test_new_product_form_renders(world: World, session: Session, login_as: Login) -> None:
    factories.make_category(session, "virgin-oil", parent=world.category)
    session.commit()
    html = login_as("anggota_a").get(f"{A}/products/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert ">Coconut</option>" in html and "– Virgin-Oil</option>" in html  # sub-categories indented
    assert "bottle" in html


def test_create_product_with_photo(world: World, session: Session, login_as: Login, app: Flask) -> None:
    data = _product_data(world, photo=(io.BytesIO(factories.png_bytes()), "keripik.png"))
    response = login_as("anggota_a").post(f"{A}/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    product = session.scalar(select(Product).where(Product.name == "Keripik Pisang"))
    assert product is not None
    assert product.kube_id == world.kube_a.id
    assert (product.price, product.stock, product.min_order_qty, product.weight_grams) == (12500, 40, 2, 250)
    assert product.status == ProductStatus.DRAFT
    assert len(product.photos) == 1


def test_create_and_send_for_review(world: World, session: Session, login_as: Login) -> None:
    data = _product_data(world, send="1")
    del data["save"]
    data["photo"] = [(io.BytesIO(factories.png_bytes()), "a.png"), (io.BytesIO(factories.png_bytes()), "b.png")]
    response = login_as("ketua_a").post(f"{A}/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    product = session.scalar(select(Product).where(Product.name == "Keripik Pisang"))
    assert product is not None and product.status == ProductStatus.PENDING_REVIEW
    assert len(product.photos) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"price": "-5"}, "Must be at least 0."),
        ({"price": "abc"}, "Enter a whole number."),
        ({"stock": "1.5"}, "Enter a whole number."),
        ({"category_id": ""}, "Choose a category."),
        ({"unit": "ton"}, "Choose a unit."),
    ],
)
def test_create_product_bad_input_saves_nothing(
    world: World, session: Session, login_as: Login, overrides: dict[str, str], message: str
) -> None:
    before = _count(session, Product)
    response = login_as("ketua_a").post(f"{A}/products/new", data=_product_data(world, **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(session, Product) == before


def test_text_file_posing_as_png_is_refused(world: World, session: Session, login_as: Login) -> None:
    before = (_count(session, Product), _count(session, ProductPhoto))
    data = _product_data(world, photo=(io.BytesIO(b"just some text, not an image"), "photo.png"))
    response = login_as("ketua_a").post(f"{A}/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, WebP or GIF image." in response.get_data(as_text=True)
    assert (_count(session, Product), _count(session, ProductPhoto)) == before


def test_image_over_the_size_limit_is_refused(
    world: World, session: Session, login_as: Login, app: Flask
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = 50
    before = (_count(session, Product), _count(session, ProductPhoto))
    data = _product_data(world, photo=(io.BytesIO(factories.png_bytes((400, 300))), "big.png"))
    response = login_as("ketua_a").post(f"{A}/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "The file is too large" in response.get_data(as_text=True)
    assert (_count(session, Product), _count(session, ProductPhoto)) == before


def test_a_bad_second_photo_keeps_no_file_of_the_first(
    world: World, session: Session, login_as: Login, app: Flask
) -> None:
    data = _product_data(world)
    data["photo"] = [(io.BytesIO(factories.png_bytes()), "ok.png"), (io.BytesIO(b"nope"), "bad.png")]
    response = login_as("ketua_a").post(f"{A}/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert _count(session, ProductPhoto) == 0
    media_root = app.config["MEDIA_ROOT"]
    import pathlib

    assert not any(p.is_file() for p in pathlib.Path(media_root).rglob("*"))


def test_edit_product(world: World, session: Session, login_as: Login) -> None:
    product_id = world.product_a.id
    client = login_as("anggota_a")
    assert client.get(f"{A}/products/{product_id}/edit").status_code == 200
    data = _product_data(world, name="Minyak Kelapa Murni", price="17000")
    response = client.post(f"{A}/products/{product_id}/edit", data=data)
    assert response.status_code == 302
    product = _product(session, product_id)
    assert product.name == "Minyak Kelapa Murni" and product.price == 17000
    # A published product whose name changed goes back to the facilitator.
    assert product.status == ProductStatus.PENDING_REVIEW


def test_edit_product_bad_price_changes_nothing(world: World, session: Session, login_as: Login) -> None:
    product_id = world.product_a.id
    response = login_as("ketua_a").post(
        f"{A}/products/{product_id}/edit", data=_product_data(world, name="Renamed", price="abc")
    )
    assert response.status_code == 200
    assert "Enter a whole number." in response.get_data(as_text=True)
    product = _product(session, product_id)
    assert product.name == "Minyak Kelapa A" and product.price == 15000


def test_edit_adds_a_photo_and_deletes_it(world: World, session: Session, login_as: Login) -> None:
    product_id = world.product_a.id
    client = login_as("ketua_a")
    data = _product_data(world, name="Minyak Kelapa A", photo=(io.BytesIO(factories.png_bytes()), "x.png"))
    assert client.post(f"{A}/products/{product_id}/edit", data=data,
                       content_type="multipart/form-data").status_code == 302
    product = _product(session, product_id)
    assert len(product.photos) == 1
    photo_id = product.photos[0].id
    assert f"photos/{photo_id}/delete" in client.get(f"{A}/products/{product_id}/edit").get_data(as_text=True)
    assert client.post(f"{A}/products/{product_id}/photos/{photo_id}/delete").status_code == 302
    assert _count(session, ProductPhoto) == 0


def test_photo_of_another_product_cannot_be_deleted_through_this_one(
    world: World, session: Session, login_as: Login
) -> None:
    session.add(ProductPhoto(product_id=world.product_b.id, key="b" * 32, width=10, height=10))
    session.commit()
    photo_id = session.scalar(select(ProductPhoto.id))
    response = login_as("ketua_a").post(f"{A}/products/{world.product_a.id}/photos/{photo_id}/delete")
    assert response.status_code == 404
    assert login_as("ketua_a").post(f"{B}/products/{world.product_b.id}/photos/{photo_id}/delete").status_code \
        == 403
    assert _count(session, ProductPhoto) == 1


def test_product_of_another_kube_is_not_found_under_this_kube(
    world: World, session: Session, login_as: Login
) -> None:
    product_b = world.product_b.id
    client = login_as("anggota_a")
    assert client.get(f"{A}/products/{product_b}/edit").status_code == 404
    assert client.post(f"{A}/products/{product_b}/edit", data=_product_data(world, name="Hacked")).status_code \
        == 404
    assert client.post(f"{B}/products/{product_b}/edit", data=_product_data(world, name="Hacked")).status_code \
        == 403
    assert client.post(f"{A}/products/{product_b}/stock", data={"stock": "0"}).status_code == 404
    assert client.post(f"{B}/products/{product_b}/stock", data={"stock": "0"}).status_code == 403
    assert client.post(f"{B}/products/{product_b}/archive").status_code == 403
    product = _product(session, product_b)
    assert (product.name, product.stock, product.status) == ("Tas Anyaman B", 10, ProductStatus.PUBLISHED)


def test_draft_of_another_kube_is_not_found(world: World, session: Session, login_as: Login) -> None:
    draft_b = world.draft_b.id
    assert login_as("ketua_a").post(f"{B}/products/{draft_b}/submit").status_code == 403
    assert _product(session, draft_b).status == ProductStatus.DRAFT


# --- Stock and status buttons -----------------------------------------------------------------------


def test_quick_stock_edit(world: World, session: Session, login_as: Login) -> None:
    product_id = world.product_a.id
    client = login_as("anggota_a")
    response = client.post(f"{A}/products/{product_id}/stock", data={"stock": "25"}, follow_redirects=True)
    assert response.status_code == 200
    assert "is now 25" in response.get_data(as_text=True)
    assert _product(session, product_id).stock == 25


@pytest.mark.parametrize("stock", ["abc", "-1", ""])
def test_quick_stock_edit_bad_input(world: World, session: Session, login_as: Login, stock: str) -> None:
    product_id = world.product_a.id
    response = login_as("ketua_a").post(f"{A}/products/{product_id}/stock", data={"stock": stock},
                                        follow_redirects=True)
    assert response.status_code == 200
    assert "alert-danger" in response.get_data(as_text=True)
    assert _product(session, product_id).stock == 10


def test_submit_archive_restore(world: World, session: Session, login_as: Login) -> None:
    draft = factories.make_product(session, world.kube_a, world.category, "Gula Aren", status=ProductStatus.DRAFT)
    session.commit()
    product_id = draft.id
    client = login_as("anggota_a")
    assert client.post(f"{A}/products/{product_id}/submit").status_code == 302
    assert _product(session, product_id).status == ProductStatus.PENDING_REVIEW
    assert client.post(f"{A}/products/{product_id}/archive").status_code == 302
    assert _product(session, product_id).status == ProductStatus.ARCHIVED
    response = client.post(f"{A}/products/{product_id}/restore", data={"next": "edit"})
    assert response.headers["Location"].endswith(f"/products/{product_id}/edit")
    assert _product(session, product_id).status == ProductStatus.DRAFT
    # Restoring a draft is refused with a message, not an error page.
    response = client.post(f"{A}/products/{product_id}/restore", follow_redirects=True)
    assert "Only an archived product can be restored." in response.get_data(as_text=True)


# --- Profile, bank account, members -----------------------------------------------------------------


def test_profile_renders_for_officer_and_facilitator(world: World, login_as: Login) -> None:
    html = login_as("ketua_a").get(f"{A}/profile").get_data(as_text=True)
    assert "Anggota A" in html and "0123456789012" in html
    assert 'name="bank-account_number"' in html
    html = login_as("facilitator_a").get(f"{A}/profile").get_data(as_text=True)
    # The facilitator reads it masked: only the officers' form needs the whole number.
    assert "0123456789012" not in html and "\u2022" * 9 + "9012" in html
    assert 'name="bank-account_number"' not in html
    assert "<script>" not in html and 'style="' not in html


def test_profile_is_forbidden_to_plain_members_and_outsiders(world: World, login_as: Login) -> None:
    assert login_as("anggota_a").get(f"{A}/profile").status_code == 403
    assert login_as("ketua_b").get(f"{A}/profile").status_code == 403


def test_profile_update_with_region(world: World, session: Session, login_as: Login) -> None:
    data = {
        "action": "profile", "kube-name": "KUBE Kelapa Batui", "kube-business_kind": "production",
        "kube-founded_on": "2019-03-01", "kube-story": "Sejak 2019.", "kube-phone": "0812",
        "kube-address": "Dusun 2", "kube-province_code": "72", "kube-regency_code": "72.01",
        "kube-district_code": "72.01.01", "kube-village_code": "72.01.01.1023",
    }
    response = login_as("ketua_a").post(f"{A}/profile", data=data)
    assert response.status_code == 302
    session.expire_all()
    kube = session.get(Kube, world.kube_a.id)
    assert kube is not None
    assert (kube.name, kube.village_code, kube.slug) == ("KUBE Kelapa Batui", "72.01.01.1023", "kube-kelapa-a")


def test_profile_region_picker_lists_the_next_level(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "profile", "refresh_regions": "1", "kube-name": "Changed", "kube-province_code": "32"}
    response = login_as("ketua_a").post(f"{A}/profile", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kabupaten Bandung" in html and 'value="Changed"' in html
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).name == "KUBE Kelapa A"  # type: ignore[union-attr]


def test_profile_bad_input_saves_nothing(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "profile", "kube-name": "", "kube-business_kind": "production",
            "kube-province_code": "72", "kube-regency_code": "72.01", "kube-district_code": "72.01.01",
            "kube-village_code": "99.99"}
    response = login_as("ketua_a").post(f"{A}/profile", data=data)
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    data["kube-name"] = "Nama Baru"
    response = login_as("ketua_a").post(f"{A}/profile", data=data)
    assert response.status_code == 200
    assert "Choose a village" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).name == "KUBE Kelapa A"  # type: ignore[union-attr]


def test_bank_account_by_officer(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "bank", "bank-bank_name": "BNI", "bank-account_number": "9876-5432-10",
            "bank-account_holder": "KUBE Kelapa A"}
    assert login_as("ketua_a").post(f"{A}/profile", data=data).status_code == 302
    session.expire_all()
    kube = session.get(Kube, world.kube_a.id)
    assert kube is not None and (kube.bank_name, kube.bank_account_number) == ("BNI", "9876543210")


def test_bank_account_bad_number(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "bank", "bank-bank_name": "BNI", "bank-account_number": "12ab",
            "bank-account_holder": "X"}
    response = login_as("ketua_a").post(f"{A}/profile", data=data)
    assert response.status_code == 200
    assert "An account number has 6 to 20 digits." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).bank_name == "BRI"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["anggota_a", "facilitator_a", "ketua_b", "buyer"])
def test_bank_account_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    data = {"action": "bank", "bank-bank_name": "Evil Bank", "bank-account_number": "111111111",
            "bank-account_holder": "Thief"}
    assert login_as(who).post(f"{A}/profile", data=data).status_code == 403
    session.expire_all()
    kube = session.get(Kube, world.kube_a.id)
    assert kube is not None and (kube.bank_name, kube.bank_account_number) == ("BRI", "0123456789012")


def test_kube_photo_upload(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "photo", "photo-photo": (io.BytesIO(factories.png_bytes()), "group.png")}
    response = login_as("ketua_a").post(f"{A}/profile", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).photo_key  # type: ignore[union-attr]


def test_kube_photo_fake_image(world: World, session: Session, login_as: Login) -> None:
    data = {"action": "photo", "photo-photo": (io.BytesIO(b"GIF89a but not really"), "group.gif")}
    response = login_as("ketua_a").post(f"{A}/profile", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, WebP or GIF image." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).photo_key is None  # type: ignore[union-attr]


def test_add_member(world: World, session: Session, login_as: Login) -> None:
    factories.make_user(session, "newbie")
    session.commit()
    data = {"action": "member", "member-email": factories.email_of("newbie"), "member-role": "bendahara"}
    assert login_as("ketua_a").post(f"{A}/profile", data=data).status_code == 302
    session.expire_all()
    roles = {m.user.email: m.role for m in session.scalars(select(KubeMember).where(
        KubeMember.kube_id == world.kube_a.id))}
    assert roles[factories.email_of("newbie")] == MemberRole.BENDAHARA


def test_add_member_errors_show_on_the_form(world: World, session: Session, login_as: Login) -> None:
    before = _count(session, KubeMember)
    client = login_as("ketua_a")
    data = {"action": "member", "member-email": "nobody@example.org", "member-role": "anggota"}
    response = client.post(f"{A}/profile", data=data)
    assert response.status_code == 200 and "Ask the member to sign up first." in response.get_data(as_text=True)
    data = {"action": "member", "member-email": factories.email_of("buyer"), "member-role": "ketua"}
    response = client.post(f"{A}/profile", data=data)
    assert response.status_code == 200 and "already has a Ketua" in response.get_data(as_text=True)
    assert _count(session, KubeMember) == before


def test_add_member_forbidden(world: World, session: Session, login_as: Login) -> None:
    before = _count(session, KubeMember)
    data = {"action": "member", "member-email": factories.email_of("buyer"), "member-role": "anggota"}
    assert login_as("ketua_b").post(f"{A}/profile", data=data).status_code == 403
    assert login_as("anggota_a").post(f"{A}/profile", data=data).status_code == 403
    assert _count(session, KubeMember) == before


def _membership(session: Session, user_id: int, kube_id: int) -> KubeMember | None:
    session.expire_all()
    return session.scalar(select(KubeMember).where(KubeMember.user_id == user_id, KubeMember.kube_id == kube_id))


def test_change_role_and_remove_member(world: World, session: Session, login_as: Login) -> None:
    member = _membership(session, world.anggota_a.id, world.kube_a.id)
    assert member is not None
    member_id = member.id
    client = login_as("ketua_a")
    assert client.post(f"{A}/members/{member_id}/role", data={"role": "sekretaris"}).status_code == 302
    member = _membership(session, world.anggota_a.id, world.kube_a.id)
    assert member is not None and member.role == MemberRole.SEKRETARIS
    ketua = _membership(session, world.ketua_a.id, world.kube_a.id)
    assert ketua is not None
    response = client.post(f"{A}/members/{ketua.id}/role", data={"role": "anggota"}, follow_redirects=True)
    assert "always has a ketua" in response.get_data(as_text=True)
    assert client.post(f"{A}/members/{member_id}/remove").status_code == 302
    assert _membership(session, world.anggota_a.id, world.kube_a.id) is None


def test_the_ketua_hands_over_the_chair(world: World, session: Session, login_as: Login) -> None:
    member = _membership(session, world.anggota_a.id, world.kube_a.id)
    assert member is not None
    client = login_as("ketua_a")
    response = client.post(f"{A}/members/{member.id}/role", data={"role": "ketua"})
    # The former ketua can no longer manage the KUBE: back to the dashboard, not to a 403.
    assert response.status_code == 302 and response.headers["Location"].endswith(A)
    new = _membership(session, world.anggota_a.id, world.kube_a.id)
    old = _membership(session, world.ketua_a.id, world.kube_a.id)
    assert new is not None and new.role == MemberRole.KETUA
    assert old is not None and old.role == MemberRole.ANGGOTA


def test_member_changes_forbidden(world: World, session: Session, login_as: Login) -> None:
    member = _membership(session, world.anggota_a.id, world.kube_a.id)
    assert member is not None
    member_id = member.id
    assert login_as("ketua_b").post(f"{A}/members/{member_id}/role", data={"role": "bendahara"}).status_code == 403
    assert login_as("ketua_b").post(f"{A}/members/{member_id}/remove").status_code == 403
    # ketua_b's own KUBE URL with a member of KUBE A: not found there.
    assert login_as("ketua_b").post(f"{B}/members/{member_id}/remove").status_code == 404
    assert login_as("anggota_a").post(f"{A}/members/{member_id}/role", data={"role": "ketua"}).status_code == 403
    member = _membership(session, world.anggota_a.id, world.kube_a.id)
    assert member is not None and member.role == MemberRole.ANGGOTA


def test_open_the_shop_of_a_verified_kube(world: World, session: Session, login_as: Login) -> None:
    world.kube_a.status = KubeStatus.VERIFIED
    session.commit()
    html = login_as("ketua_a").get(A).get_data(as_text=True)
    assert "Mark as active / trading" in html and "Open the shop" not in html
    assert "The KUBE is verified: buyers can already see it" in html
    assert login_as("anggota_a").post(f"{A}/open").status_code == 403
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).status == KubeStatus.VERIFIED  # type: ignore[union-attr]
    response = login_as("ketua_a").post(f"{A}/open", follow_redirects=True)
    assert "marked as active" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Kube, world.kube_a.id).status == KubeStatus.ACTIVE  # type: ignore[union-attr]


def test_forms_carry_the_csrf_token(csrf_app: Flask, session: Session) -> None:
    import re

    world = factories.build_world(session)
    session.commit()
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    client.post("/auth/login", data={"email": factories.email_of("ketua_a"), "password": factories.PASSWORD,
                                     "csrf_token": token.group(1)})
    html = client.get(A).get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert tokens
    product_id = world.product_a.id
    assert client.post(f"{A}/products/{product_id}/stock", data={"stock": "3"}).status_code == 400
    assert client.post(f"{A}/products/{product_id}/stock",
                       data={"stock": "3", "csrf_token": tokens[0]}).status_code == 302
    assert _product(session, product_id).stock == 3


# --- Page details: labels, notes, confirmations -----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "label"),
    [(ProductStatus.DRAFT, "Save as draft"), (ProductStatus.PUBLISHED, "Save changes"),
     (ProductStatus.PENDING_REVIEW, "Save changes")],
)
def test_save_button_says_what_it_does(
    world: World, session: Session, login_as: Login, status: ProductStatus, label: str
) -> None:
    product = factories.make_product(session, world.kube_a, world.category, "Gula Aren", status=status)
    session.commit()
    html = login_as("ketua_a").get(f"{A}/products/{product.id}/edit").get_data(as_text=True)
    assert f'name="save" type="submit" value="{label}"' in html
    assert ("Save and send for review" in html) is (status == ProductStatus.DRAFT)
    assert 'value="Save as draft"' in login_as("ketua_a").get(f"{A}/products/new").get_data(as_text=True)


NOTE = "Choose your photos again: they were not saved because of the errors above."


def test_photos_to_choose_again_after_an_error(world: World, session: Session, login_as: Login) -> None:
    client = login_as("ketua_a")
    data = _product_data(world, price="abc", photo=(io.BytesIO(factories.png_bytes()), "keripik.png"))
    html = client.post(f"{A}/products/new", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Enter a whole number." in html and NOTE in html
    assert 'aria-describedby="photos-again"' in html
    data = _product_data(world, name="", photo=(io.BytesIO(factories.png_bytes()), "keripik.png"))
    html = client.post(f"{A}/products/{world.product_a.id}/edit", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "This field is required." in html and NOTE in html
    # No photo chosen, or no error: no note.
    html = client.post(f"{A}/products/new", data=_product_data(world, price="abc"),
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Enter a whole number." in html and NOTE not in html
    assert NOTE not in client.get(f"{A}/products/new").get_data(as_text=True)


def test_destructive_actions_ask_first(world: World, session: Session, login_as: Login) -> None:
    client = login_as("ketua_a")
    product_id = world.product_a.id
    session.add(ProductPhoto(product_id=product_id, key="a" * 32, width=10, height=10))
    session.commit()
    html = client.get(A).get_data(as_text=True)
    assert 'data-confirm="Archive “Minyak Kelapa A”? Buyers will no longer see it."' in html
    assert 'aria-label="Archive Minyak Kelapa A"' in html and 'aria-label="Edit Minyak Kelapa A"' in html
    assert '/static/js/confirm.js"' in html
    html = client.get(f"{A}/products/{product_id}/edit").get_data(as_text=True)
    assert html.count("data-confirm=") == 2  # archive, delete the photo
    assert 'aria-label="Delete photo 1 of Minyak Kelapa A"' in html
    html = client.get(f"{A}/profile").get_data(as_text=True)
    assert 'data-confirm="Remove Anggota A from KUBE Kelapa A?"' in html
    assert 'aria-label="Remove Anggota A"' in html and 'aria-label="Change the role of Anggota A"' in html
    assert "<script>" not in html and 'style="' not in html


def test_dashboard_keeps_price_and_unit_together(world: World, login_as: Login) -> None:
    html = login_as("ketua_a").get(A).get_data(as_text=True)
    assert ('<td data-label="Price"><span><span class="text-nowrap">Rp15.000</span> '
            '<span class="small text-muted text-nowrap">/ bottle</span></span></td>') in html


def test_region_picker_marks_what_the_script_hides(world: World, login_as: Login) -> None:
    html = login_as("ketua_a").get(f"{A}/profile").get_data(as_text=True)
    assert "data-region-refresh" in html and "data-region-help" in html
    assert "/static/js/region-select.js" in html
