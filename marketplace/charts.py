"""Charts drawn on the server as inline SVG: no script, nothing from the internet, readable on a phone.

`month_chart` draws months side by side: two bars per month (income, expenses) and a line for profit, with a
zero line and a few round ticks on the Rupiah axis. The SVG scales to its container's width (viewBox).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Sized for a phone: at ~350 px wide the 12 px texts stay readable; wider screens scale it up.
WIDTH, HEIGHT = 440, 250
LEFT, RIGHT, TOP, BOTTOM = 46, 6, 10, 42


@dataclass(frozen=True)
class Point:
    label: str  # the month as shown under its bars, e.g. "Nov 26"
    income: int
    expenses: int

    @property
    def profit(self) -> int:
        return self.income - self.expenses


def short_rupiah(amount: int) -> str:
    """A compact axis label in Indonesian style: 1,5 jt; 250 rb; 0 (whole Rupiah in, text out)."""
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if value >= 1_000_000_000:
        text, unit = _one_decimal(value, 1_000_000_000), " M"
    elif value >= 1_000_000:
        text, unit = _one_decimal(value, 1_000_000), " jt"
    elif value >= 1_000:
        text, unit = str(value // 1_000), " rb"
    else:
        text, unit = str(value), ""
    return f"{sign}{text}{unit}"


def _one_decimal(value: int, unit: int) -> str:
    tenths = (value * 10 + unit // 2) // unit
    whole, rest = divmod(tenths, 10)
    return f"{whole},{rest}" if rest else str(whole)


def nice_step(span: int, ticks: int = 4) -> int:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into about `ticks` parts."""
    raw = max(1, span // ticks)
    power = 1
    while power * 10 <= raw:
        power *= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def month_chart(points: Sequence[Point], *, title: str, income_label: str, expenses_label: str,
                profit_label: str) -> Markup:
    """Income and expense bars and a profit line for each month, as one inline <svg> element."""
    highest = max([0, *(p.income for p in points), *(p.expenses for p in points), *(p.profit for p in points)])
    lowest = min([0, *(p.profit for p in points)])
    step = nice_step(highest - lowest or 1)
    top = -(-highest // step) * step or step
    bottom = (lowest // step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(amount: int) -> float:
        return TOP + plot_h * (top - amount) / (top - bottom)

    parts = [
        f'<svg class="month-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    tick = bottom
    while tick <= top:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'class="{"axis-zero" if tick == 0 else "grid"}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">'
                     f"{escape(short_rupiah(tick))}</text>")
        tick += step
    slot = plot_w / max(1, len(points))
    bar = max(2.0, slot * 0.32)
    line: list[str] = []
    for i, point in enumerate(points):
        x0 = LEFT + slot * i + (slot - 2 * bar) / 2
        for offset, amount, css, label in ((0, point.income, "bar-income", income_label),
                                           (bar, point.expenses, "bar-expense", expenses_label)):
            height = y(0) - y(amount)
            parts.append(f'<rect x="{x0 + offset:.1f}" y="{y(amount):.1f}" width="{bar:.1f}" '
                         f'height="{max(0.0, height):.1f}" class="{css}"><title>{escape(point.label)} · '
                         f"{escape(label)}: {escape(short_rupiah(amount))}</title></rect>")
        cx = LEFT + slot * (i + 0.5)
        line.append(f"{cx:.1f},{y(point.profit):.1f}")
        # Every month's label while there is room, else every other one (the newest always).
        if len(points) <= 7 or (len(points) - 1 - i) % 2 == 0:
            parts.append(f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
                         f"{escape(point.label)}</text>")
    if line:
        parts.append(f'<polyline points="{" ".join(line)}" class="line-profit" fill="none"/>')
        for i, point in enumerate(points):
            cx = LEFT + slot * (i + 0.5)
            parts.append(f'<circle cx="{cx:.1f}" cy="{y(point.profit):.1f}" r="3" class="dot-profit">'
                         f"<title>{escape(point.label)} · {escape(profit_label)}: "
                         f"{escape(short_rupiah(point.profit))}</title></circle>")
    legend_y = HEIGHT - 8
    for j, (css, label) in enumerate((("bar-income", income_label), ("bar-expense", expenses_label),
                                      ("line-profit-key", profit_label))):
        lx = LEFT + j * 130
        parts.append(f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" class="{css}"/>'
                     f'<text x="{lx + 14}" y="{legend_y}" class="legend">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
