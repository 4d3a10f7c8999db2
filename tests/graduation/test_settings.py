"""The rules come from MARKETPLACE_GRADUATION_* settings; values that cannot work stop the app with a clear error."""

from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.graduation.rules import DEFAULT_WEIGHTS, Rules


def test_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SALES_MONTHS", "PROFIT_PER_MEMBER", "WEIGHTS", "REQUIRE_VERIFIED", "BOOK_MONTHS"):
        monkeypatch.delenv(f"MARKETPLACE_GRADUATION_{name}", raising=False)
    rules = Rules.from_config(create_app().config["GRADUATION"])
    assert rules == Rules()
    assert dict(rules.weights) == dict(DEFAULT_WEIGHTS)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_GRADUATION_SALES_MONTHS", "12")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_PROFIT_PER_MEMBER", "750_000")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_PROFIT_MONTHS", "12")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_TREND_MONTHS", "4")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_TREND_STABLE_PERCENT", "95")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_BOOK_MONTHS", "10")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_BOOK_WINDOW", "12")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_REQUIRE_VERIFIED", "no")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_CLOSE_SCORE", "70")
    monkeypatch.setenv("MARKETPLACE_GRADUATION_WEIGHTS", " sales = 50, profit=50 ")
    rules = Rules.from_config(create_app().config["GRADUATION"])
    assert rules == Rules(sales_months=12, profit_per_member=750_000, profit_months=12, trend_months=4,
                          trend_stable_percent=95, book_months=10, book_window=12, require_verified=False,
                          close_score=70, weights={"sales": 50, "profit": 50, "trend": 0, "books": 0, "verified": 0})
    assert rules.months_needed == 12


@pytest.mark.parametrize("name, value, says", [
    ("SALES_MONTHS", "six", "must be a whole number"),
    ("SALES_MONTHS", "0", "between 1 and 36"),
    ("SALES_MONTHS", "1.5", "must be a whole number"),
    ("PROFIT_PER_MEMBER", "-1", "between 0 and"),
    ("PROFIT_PER_MEMBER", "Rp500.000", "must be a whole number"),
    ("TREND_MONTHS", "1", "between 2 and 12"),
    ("PROFIT_MONTHS", "1", "between 2 and 36"),
    ("TREND_STABLE_PERCENT", "120", "between 0 and 100"),
    ("BOOK_MONTHS", "7", "cannot be more than MARKETPLACE_GRADUATION_BOOK_WINDOW"),
    ("CLOSE_SCORE", "", "must be a whole number"),
    ("REQUIRE_VERIFIED", "maybe", "must be true or false"),
    ("WEIGHTS", "sales=30,luck=70", "must look like"),
    ("WEIGHTS", "sales:30", "must look like"),
    ("WEIGHTS", "sales=-3", "must look like"),
    ("WEIGHTS", "sales=1,sales=2", "names 'sales' twice"),
    ("WEIGHTS", "sales=0,profit=0", "at least one rule a weight above 0"),
    ("WEIGHTS", "sales=5000", "between 0 and 1000"),
])
def test_bad_values_are_refused_with_a_clear_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                   says: str) -> None:
    monkeypatch.setenv(f"MARKETPLACE_GRADUATION_{name}", value)
    with pytest.raises(ConfigError, match=says) as refused:
        create_app()
    assert f"MARKETPLACE_GRADUATION_{name}" in str(refused.value)
