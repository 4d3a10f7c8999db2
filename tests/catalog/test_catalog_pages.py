"""Public pages through the test client: home, products, KUBE directory, storefront, product page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus, ProductPhoto
from marketplace.catalog.views import whatsapp_url
from tests import factories
from tests.conftest import login
from tests.factories import World


def test_home_shows_products_kubes_categories(client: FlaskClient, world: World) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Minyak Kelapa A" in html and "Tas Anyaman B" in html
    assert "KUBE Kelapa A" in html
    assert "Rp15.000" in html
    assert "Draft B" not in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "cdn" not in html.lower()


def test_default_language_is_indonesian_and_english_on_request(client: FlaskClient, world: World) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in html
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english
    switched = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in switched
    # The switch is remembered for the next page.
    assert '<html lang="en">' in client.get("/products").get_data(as_text=True)


def test_product_list_filters(client: FlaskClient, world: World) -> None:
    html = client.get("/products?province=72").get_data(as_text=True)
    assert "Minyak Kelapa A" in html and "Tas Anyaman B" not in html
    html = client.get("/products?q=anyaman").get_data(as_text=True)
    assert "Tas Anyaman B" in html and "Minyak Kelapa A" not in html
    nul = client.get("/products?category=%00")
    assert nul.status_code == 400 and "could not be understood" in client.get(
        "/products?q=a%00b", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for junk in ("?min_price=abc", "?sort=evil", "?page=-3", "?page=99999999999999", "?category=%C3%28",
                 "?q=" + "x" * 3000, "?max_price=1e9"):
        assert client.get("/products" + junk).status_code == 200, junk


def test_kube_directory_filters_by_province_and_kind(client: FlaskClient, world: World) -> None:
    html = client.get("/kube?province=32").get_data(as_text=True)
    assert "KUBE Anyaman B" in html and "KUBE Kelapa A" not in html
    html = client.get("/kube?kind=services").get_data(as_text=True)
    assert "KUBE Anyaman B" not in html
    assert client.get("/kube?kind=bogus&page=x").status_code == 200


def test_storefront_and_product_page(client: FlaskClient, world: World) -> None:
    html = client.get(f"/kube/{world.kube_a.slug}").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and "Minyak Kelapa A" in html
    assert "Kabupaten Banggai" in html and "Sulawesi Tengah" in html
    assert world.kube_a.bank_account_number not in html  # payout account is private
    product = client.get(f"/product/{world.product_a.id}/{world.product_a.slug}")
    assert product.status_code == 200 and "Rp15.000" in product.get_data(as_text=True)
    redirect = client.get(f"/product/{world.product_a.id}")
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith(world.product_a.slug)


def test_private_things_are_404_for_outsiders(client: FlaskClient, session: Session, world: World) -> None:
    assert client.get(f"/product/{world.draft_b.id}/{world.draft_b.slug}").status_code == 404
    world.kube_b.status = KubeStatus.SUSPENDED
    session.commit()
    assert client.get(f"/kube/{world.kube_b.slug}").status_code == 404
    assert client.get(f"/product/{world.product_b.id}/{world.product_b.slug}").status_code == 404
    assert client.get("/kube/no-such-kube").status_code == 404


def test_bank_account_visible_to_officers_facilitator_operator_only(app: Flask, world: World) -> None:
    number = world.kube_a.bank_account_number
    assert number
    for who, visible in [("ketua_a", True), ("facilitator_a", True), ("operator", True),
                         ("anggota_a", False), ("facilitator_b", False), ("buyer", False)]:
        client = login(app.test_client(), factories.email_of(who))
        html = client.get(f"/kube/{world.kube_a.slug}").get_data(as_text=True)
        # Masked (personal financial data, UU PDP 27/2022): the page never needs the whole number.
        assert number not in html, who
        assert ("\u2022" * (len(number) - 4) + number[-4:] in html) is visible, who


def test_members_see_their_drafts(app: Flask, world: World) -> None:
    client = login(app.test_client(), factories.email_of("ketua_b"))
    assert client.get(f"/product/{world.draft_b.id}/{world.draft_b.slug}").status_code == 200
    client = login(app.test_client(), factories.email_of("ketua_a"))
    assert client.get(f"/product/{world.draft_b.id}/{world.draft_b.slug}").status_code == 404


def test_media_is_served(client: FlaskClient, app: Flask, session: Session, world: World) -> None:
    from marketplace.catalog import services

    limits = services.ImageLimits(app.config["MEDIA_ROOT"], 1_000_000, 1_000_000)
    photo = services.add_product_photo(session, world.operator, world.product_a.id, factories.png_bytes(), limits)
    session.commit()
    response = client.get(f"/media/{photo.key[:2]}/{photo.key}_thumb.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    response.close()
    assert client.get("/media/../../etc/passwd").status_code == 404
    html = client.get("/").get_data(as_text=True)
    assert f"{photo.key}_thumb.jpg" in html


def test_pages_run_a_constant_number_of_queries(client: FlaskClient, session: Session, world: World,
                                                count_queries: object) -> None:
    """No query per row: the same page with 2 or 20 products issues the same number of statements."""
    from typing import Any

    counting: Any = count_queries
    pages = ["/", "/products", f"/kube/{world.kube_a.slug}", "/kube"]

    def measure() -> dict[str, int]:
        counts = {}
        for url in pages:
            with counting() as counter:
                assert client.get(url).status_code == 200
            counts[url] = counter.count
        return counts

    before = measure()
    for i in range(18):
        kube = world.kube_a if i % 2 else factories.make_kube(session, f"KUBE Tambahan {i}")
        product = factories.make_product(session, kube, world.category, f"Barang {i}")
        session.add(ProductPhoto(product_id=product.id, key=f"{i:02d}photo{i}", width=8, height=6))
    session.commit()
    assert measure() == before


# --- Contact, headings, filters, error page ---------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "url"),
    [
        ("0812-3456-7890", "https://wa.me/6281234567890"),
        ("+62 812 3456 7890", "https://wa.me/6281234567890"),
        ("(+62) 0812 3456 7890", "https://wa.me/6281234567890"),
        ("812 3456 7890", "https://wa.me/6281234567890"),
        ("6281234567890", "https://wa.me/6281234567890"),
        ("", None),
        (None, None),
        ("0812", None),
        ("tel: ²³", None),
    ],
)
def test_whatsapp_url_takes_indonesian_numbers(phone: str | None, url: str | None) -> None:
    assert whatsapp_url(phone) == url


def test_whatsapp_url_prefills_an_encoded_text() -> None:
    url = whatsapp_url("0812 3456 7890", "Halo, “Minyak & Sabun”? 100%")
    assert url == "https://wa.me/6281234567890?text=Halo%2C%20%E2%80%9CMinyak%20%26%20Sabun%E2%80%9D%3F%20100%25"


def test_product_page_and_storefront_link_to_whatsapp(client: FlaskClient, session: Session, world: World) -> None:
    world.kube_a.phone = "0812-3456-7890"
    session.commit()
    en = {"Accept-Language": "en"}
    html = client.get(f"/product/{world.product_a.id}/{world.product_a.slug}", headers=en).get_data(as_text=True)
    assert "Contact via WhatsApp" in html
    link = re.search(r'href="(https://wa\.me/[^"]+)"', html)
    assert link is not None
    url = unescape(link.group(1))
    assert url.startswith("https://wa.me/6281234567890?text=")
    text = unquote(url.split("?text=", 1)[1])
    assert "KUBE Kelapa A" in text and "“Minyak Kelapa A”" in text
    assert text.endswith(f"/product/{world.product_a.id}/{world.product_a.slug}")
    html = client.get(f"/kube/{world.kube_a.slug}", headers=en).get_data(as_text=True)
    assert 'href="https://wa.me/6281234567890?text=' in html and "Contact via WhatsApp" in html
    # No phone number, no button.
    html = client.get(f"/product/{world.product_b.id}/{world.product_b.slug}", headers=en).get_data(as_text=True)
    assert "wa.me" not in html and "Contact via WhatsApp" not in html
    assert "wa.me" not in client.get(f"/kube/{world.kube_b.slug}").get_data(as_text=True)


def test_products_page_headings_follow_the_h1(client: FlaskClient, world: World) -> None:
    html = client.get("/products").get_data(as_text=True)
    assert '<h2 class="product-name">' in html and '<h3 class="product-name">' not in html
    # Elsewhere the cards sit under a section's <h2>.
    assert '<h3 class="product-name">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("query", "is_open"), [("", False), ("?sort=newest", False), ("?sort=price_asc", True),
                                                 ("?province=72", True), ("?min_price=1000", True)])
def test_filter_panel_stays_open_when_a_filter_or_sort_is_chosen(
    client: FlaskClient, world: World, query: str, is_open: bool
) -> None:
    html = client.get("/products" + query).get_data(as_text=True)
    details = re.search(r"<details[^>]*>", html)
    assert details is not None
    assert (" open" in details.group(0)) is is_open


def test_error_page_has_a_heading(client: FlaskClient, world: World) -> None:
    response = client.get("/kube/no-such-kube", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    assert heading is not None and "404" in heading.group(1)


def test_flashed_messages_float_at_the_bottom(app: Flask, world: World) -> None:
    client = login(app.test_client(), factories.email_of("buyer"))
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    stack = html.split('class="flash-stack', 1)
    assert len(stack) == 2 and "position-fixed" in stack[1][:100]
    assert 'role="status"' in stack[1] and world.buyer.name in stack[1]  # "Welcome back, Buyer."
    assert 'class="flash-stack' not in client.get("/").get_data(as_text=True)  # shown once


def test_security_headers(client: FlaskClient, world: World) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html  # nothing inline for the policy to block


def test_a_page_past_the_end_goes_to_the_last_page(client: FlaskClient, world: World) -> None:
    response = client.get("/products?page=50&q=kelapa")
    assert response.status_code == 302 and response.headers["Location"] == "/products?page=1&q=kelapa"
    assert client.get("/kube?page=9").headers["Location"] == "/kube?page=1"


def test_good_news_fades_but_errors_stay(app: Flask, world: World) -> None:
    client = login(app.test_client(), world.buyer.email)
    html = client.get("/").get_data(as_text=True)  # the "welcome back" flash
    assert 'alert-success' in html and 'data-autohide="7000"' in html
    assert "/static/js/flash.js" in html
