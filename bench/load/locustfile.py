"""The load mix for `python -m bench.load.run`: buyers browsing, searching and checking out, and KUBE officers
looking at their dashboards, on the large dataset (bench.data). BENCH_LOAD_TARGETS names a JSON file of ids,
slugs and e-mail addresses that run.py reads from the database. With BENCH_LOAD_HELLO=1 every user asks for
the bare Flask app's one page instead (the ceiling of the same server set-up).

Request names (what the report lists): home, catalogue, search, product, kube, cart add, login, checkout form,
checkout, dashboard, kube orders.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, constant, task

from bench.data import BENCH_PASSWORD

# "mix" (the default), or one page asked for again and again without think time to find the most requests/s
# the server gives: "hello" (the bare app), "catalogue", "product".
MODE = os.environ.get("BENCH_LOAD_MODE", "mix")
HELLO = MODE == "hello"
TARGETS: dict[str, Any] = {}
if not HELLO:
    with open(os.environ["BENCH_LOAD_TARGETS"], encoding="utf-8") as file:
        TARGETS = json.load(file)

# What buyers type (bench.catalogue's words, a few with typos).
QUERIES = ("keripik pisang", "minyak kelapa", "kopi robusta", "sabun kelapa", "madu hutan", "gula aren", "batik tulis",
           "tenun ikat", "arang tempurung", "briket", "abon ikan", "sambal roa", "kripik", "kelpa", "oleh-oleh",
           "rendang sapi", "telur asin", "beras organik", "anyaman bambu", "tas pandan")
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'([a-zA-Z_:-]+)(?:="([^"]*)")?')
_buyers = itertools.count()
_ketuas = itertools.count()


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden inputs, text fields and checked radios of the form posting to `action` (a form without an
    action posts to its own page: the first such POST form is taken when none names `action`)."""
    chosen = None
    for attrs, body in _FORM.findall(page):
        target = re.search(r'action="([^"]*)"', attrs)
        if target is not None and html.unescape(target.group(1)) == action:
            chosen = body
            break
        if target is None and chosen is None and 'method="post"' in attrs.lower():
            chosen = body
    if chosen is None:
        return {}
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(chosen):
        attrs = {k: html.unescape(v or "") for k, v in _ATTR.findall(tag[6:])}
        kind, name = attrs.get("type", "text"), attrs.get("name")
        if not name or (kind in ("radio", "checkbox") and "checked" not in attrs):
            continue
        if kind in ("hidden", "radio", "checkbox", "text"):
            fields.setdefault(name, attrs.get("value", ""))
    return fields


class _Base(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)

    def product_page(self) -> str:
        product = random.choice(TARGETS["products"])
        with self.client.get(f"/product/{product['id']}/{product['slug']}", name="product",
                             catch_response=True) as response:
            return response.text or ""

    def login(self, email: str) -> bool:
        page = self.client.get("/auth/login", name="login form").text or ""
        fields = form_fields(page, "/auth/login")
        fields.update(email=email, password=BENCH_PASSWORD)
        with self.client.post("/auth/login", data=fields, name="login", catch_response=True) as response:
            if "/auth/login" in response.url:
                response.failure("sign-in refused")
                return False
        return True


class Browser(_Base):
    """Someone looking around: the home page, the catalogue, searches, products, KUBEs, now and then a cart."""

    weight = 8

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(4)
    def catalogue(self) -> None:
        page = random.choice((1, 1, 1, 2, 3, random.randint(4, 200)))
        self.client.get(f"/products?page={page}", name="catalogue")

    @task(3)
    def search(self) -> None:
        query = random.choice(QUERIES)
        extra = random.choice(("", "", "&sort=price_asc", f"&province={random.choice(TARGETS['provinces'])}"))
        self.client.get(f"/search?q={query}{extra}", name="search")

    @task(6)
    def product(self) -> None:
        self.product_page()

    @task(2)
    def kube(self) -> None:
        self.client.get(f"/kube/{random.choice(TARGETS['kubes'])}", name="kube")

    @task(1)
    def cart_add(self) -> None:
        page = self.product_page()
        fields = form_fields(page, "/cart/add")
        if fields:
            self.client.post("/cart/add", data=fields, name="cart add")


class Buyer(_Base):
    """A signed-in buyer from the generated set: a product, into the cart, checkout by bank transfer. A buyer
    may hold only a few unpaid checkouts, so each simulated user moves on to the next buyer after three."""

    weight = 1

    def on_start(self) -> None:
        self.placed = 0
        self.login(TARGETS["buyers"][next(_buyers) % len(TARGETS["buyers"])])

    @task
    def buy(self) -> None:
        if self.placed >= 3:
            self.client.post("/auth/logout", data=form_fields(self.client.get("/", name="home").text or "",
                                                              "/auth/logout"), name="logout")
            self.placed = 0
            self.login(TARGETS["buyers"][next(_buyers) % len(TARGETS["buyers"])])
        product = random.choice(TARGETS["stocked"])
        page = self.client.get(f"/product/{product['id']}/{product['slug']}", name="product").text or ""
        fields = form_fields(page, "/cart/add")
        if not fields:
            return
        fields["quantity"] = str(product["min_qty"])
        self.client.post("/cart/add", data=fields, name="cart add")
        form = self.client.get("/checkout", name="checkout form").text or ""
        fields = form_fields(form, "/checkout")
        fields.update(payment_method="manual", recipient_name="Pembeli Bench", recipient_phone="0812-0000-0000",
                      address="Jl. Merdeka No. 1")
        with self.client.post("/checkout", data=fields, name="checkout", catch_response=True) as response:
            if "/orders/checkout/" not in response.url:
                response.failure("checkout not placed")
                self.placed = 3  # on to the next buyer
            else:
                self.placed += 1


class Officer(_Base):
    """A KUBE's ketua checking the dashboard and the orders."""

    weight = 1

    def on_start(self) -> None:
        email, self.slug = TARGETS["ketuas"][next(_ketuas) % len(TARGETS["ketuas"])]
        self.login(email)

    @task(3)
    def dashboard(self) -> None:
        self.client.get(f"/my-kube/{self.slug}", name="dashboard")

    @task(1)
    def orders(self) -> None:
        self.client.get(f"/my-kube/{self.slug}/orders", name="kube orders")


class Saturate(HttpUser):
    """One page, no think time (MODE hello, catalogue or product)."""

    wait_time = constant(0)

    @task
    def one_page(self) -> None:
        if MODE == "hello":
            self.client.get("/", name="hello")
        elif MODE == "catalogue":
            self.client.get(f"/products?page={random.choice((1, 1, 1, 2, 3, random.randint(4, 200)))}",
                            name="catalogue")
        else:
            product = random.choice(TARGETS["products"])
            self.client.get(f"/product/{product['id']}/{product['slug']}", name="product")


# Locust runs every concrete HttpUser class found here: keep only the ones of the run asked for.
if MODE == "mix":
    del Saturate
else:
    del Browser, Buyer, Officer
