"""The insights' charts as inline SVG (no script, nothing from the internet; scales to the phone's width).

Colours are SVG presentation attributes, not inline styles, so the strict Content-Security-Policy holds and no
stylesheet change is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from marketplace.charts import nice_step, short_rupiah

WIDTH = 640
GREEN, ORANGE, GRID, TEXT = "#2f7d4f", "#e0a526", "#d9d4c7", "#4a554f"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # whole Rupiah
    extra: int = 0  # a second part stacked on top (contract sales on a month's order sales)


def month_bars(bars: Sequence[Bar], *, title: str, value_label: str, extra_label: str) -> Markup:
    """One stacked bar a month: order sales, with contract sales on top; a legend below."""
    height, left, right, top_pad, bottom = 260, 60, 8, 12, 50
    highest = max([0, *(b.value + b.extra for b in bars)])
    step = nice_step(highest or 1)
    top = -(-highest // step) * step or step
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom

    def y(amount: int) -> float:
        return top_pad + plot_h * (top - amount) / top

    parts = [f'<svg class="insights-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet" font-size="14" '
             f'fill="{TEXT}"><title>{escape(title)}</title>']
    tick = 0
    while tick <= top:
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(short_rupiah(tick))}</text>")
        tick += step
    slot = plot_w / max(1, len(bars))
    width = max(2.0, slot * 0.6)
    for i, bar in enumerate(bars):
        x = left + slot * i + (slot - width) / 2
        base = y(0)
        for amount, colour, label in ((bar.value, GREEN, value_label), (bar.extra, ORANGE, extra_label)):
            if amount <= 0:
                continue
            h = base - y(amount)
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(bar.label)} · {escape(label)}: '
                         f"{escape(short_rupiah(amount))}</title></rect>")
            base -= h
        if len(bars) <= 6 or i % -(-len(bars) // 6) == 0:  # at most about six labels: a phone is narrow
            parts.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{height - bottom + 18}" '
                         f'text-anchor="middle">{escape(bar.label)}</text>')
    for j, (colour, label) in enumerate(((GREEN, value_label), (ORANGE, extra_label))):
        lx = left + j * 240
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="{height - 7}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def ranking_bars(bars: Sequence[Bar], *, title: str) -> Markup:
    """Horizontal bars, biggest first, each with its name above and its amount at its end."""
    row_h, pad = 44, 4
    height = max(1, len(bars)) * row_h + pad
    highest = max([1, *(b.value for b in bars)])
    plot_w = WIDTH - 80
    parts = [f'<svg class="insights-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet" font-size="16" '
             f'fill="{TEXT}"><title>{escape(title)}</title>']
    for i, bar in enumerate(bars):
        top = pad + i * row_h
        w = max(1.0, plot_w * bar.value / highest)
        label = bar.label if len(bar.label) <= 48 else bar.label[:47] + "…"
        parts.append(f'<text x="0" y="{top + 15}">{escape(label)}</text>'
                     f'<rect x="0" y="{top + 21}" width="{w:.1f}" height="16" rx="2" fill="{GREEN}">'
                     f"<title>{escape(bar.label)}: {escape(short_rupiah(bar.value))}</title></rect>"
                     f'<text x="{min(w + 6, plot_w + 6):.1f}" y="{top + 35}">{escape(short_rupiah(bar.value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
