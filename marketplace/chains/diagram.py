"""The chain diagram, drawn on the server as SVG: an indented tree (upstream at the top, each process under the
one that makes its input), so that it stays readable on a 360 px phone. Colours and fonts come from classes in
static/css/app.css (no inline style: strict CSP)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 360
INDENT = 22
ROW = 78
BOX = 66


@dataclass(frozen=True)
class Box:
    key: str
    title: str
    lines: Sequence[str]  # up to two short lines under the title (KUBEs, planned figures)
    inputs: Sequence[str]
    outputs: Sequence[str]
    warn: bool = False  # a shortfall: drawn with a warning border


def _tree(boxes: Sequence[Box]) -> list[tuple[Box, int, Box | None]]:
    """(box, depth, parent) in reading order: a process under the one that makes its first input."""
    maker = {item: box for box in boxes for item in box.outputs}
    parent = {box.key: next((maker[i] for i in box.inputs if i in maker), None) for box in boxes}
    children: dict[str | None, list[Box]] = {}
    for box in boxes:
        owner = parent[box.key]
        children.setdefault(owner.key if owner else None, []).append(box)
    ordered: list[tuple[Box, int, Box | None]] = []

    def walk(key: str | None, depth: int) -> None:
        for box in children.get(key, []):
            if any(b.key == box.key for b, _d, _p in ordered):
                continue
            ordered.append((box, depth, parent[box.key]))
            walk(box.key, depth + 1)

    walk(None, 0)
    return ordered


def chain_svg(boxes: Sequence[Box], item_names: Mapping[str, str], title: str) -> str:
    rows = _tree(boxes)
    height = max(1, len(rows)) * ROW + 8
    out = [f'<svg class="chain-diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'role="img" aria-labelledby="chain-diagram-title"><title id="chain-diagram-title">{escape(title)}'
           '</title>']
    place: dict[str, tuple[int, int]] = {}
    for index, (box, depth, _parent) in enumerate(rows):
        place[box.key] = (depth * INDENT, index * ROW + 4)
    for box, _depth, parent in rows:
        if parent is None:
            continue
        px, py = place[parent.key]
        x, y = place[box.key]
        line_x = px + 10
        out.append(f'<path class="chain-link" d="M{line_x} {py + BOX} V{y + BOX // 2} H{x}"/>')
        item = next((i for i in box.inputs if i in parent.outputs), "")
        if item:
            out.append(f'<text class="chain-link-label" x="{line_x + 4}" y="{y - 3}">'
                       f'{escape(item_names.get(item, item))}</text>')
    for box, _depth, _parent in rows:
        x, y = place[box.key]
        css = "chain-box chain-box-warn" if box.warn else "chain-box"
        out.append(f'<rect class="{css}" x="{x + 1}" y="{y + 1}" width="{WIDTH - x - 2}" height="{BOX - 14}" rx="8"/>')
        out.append(f'<text class="chain-title" x="{x + 10}" y="{y + 19}">{escape(box.title)}</text>')
        for n, line in enumerate(box.lines[:2]):
            out.append(f'<text class="chain-line" x="{x + 10}" y="{y + 34 + n * 13}">{escape(line)}</text>')
    out.append("</svg>")
    return "".join(out)
