"""Demo pictures drawn with Pillow: product photos and KUBE banners. Nothing is downloaded.

Shapes are laid out on a fixed design grid (800 x 600 for products, 1200 x 500 for banners), drawn at
twice the asked size and halved, which smooths the edges that ImageDraw leaves jagged. The text uses
the TrueType font that ships inside Pillow, so no system fonts are needed.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]
Point = tuple[float, float]

PRODUCT_SIZE = (800, 600)
BANNER_SIZE = (1200, 500)
_SUPERSAMPLE = 2
_GROUND = 450.0  # design y where products stand

# Warm two-colour backgrounds per top-level category slug (top colour, bottom colour).
BACKGROUNDS: dict[str, tuple[RGB, RGB]] = {
    "food-drink": ((255, 222, 178), (232, 146, 92)),
    "coconut-products": ((250, 236, 200), (200, 152, 98)),
    "crafts": ((248, 226, 204), (196, 124, 98)),
    "farm-produce": ((240, 238, 186), (160, 174, 96)),
    "services": ((244, 224, 232), (176, 124, 150)),
}
_DEFAULT_BACKGROUND: tuple[RGB, RGB] = ((250, 230, 200), (210, 150, 100))
_INK: RGB = (52, 40, 32)
_CREAM: RGB = (255, 250, 240)


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _shade(c: RGB, factor: float) -> RGB:
    """factor < 1 darkens, > 1 lightens towards white."""
    if factor <= 1:
        return _mix((0, 0, 0), c, factor)
    return _mix(c, (255, 255, 255), min(1.0, factor - 1))


def _jitter(c: RGB, rng: random.Random, amount: int = 14) -> RGB:
    d = rng.randint(-amount, amount)
    return (max(0, min(255, c[0] + d)), max(0, min(255, c[1] + d)), max(0, min(255, c[2] + d)))


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no scalable default font
        return ImageFont.load_default()


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, *, diagonal: bool = False) -> Image.Image:
    """A smooth two-colour gradient (Pillow's 256-step ramp, stretched)."""
    ramp = Image.linear_gradient("L")
    if diagonal:
        ramp = ramp.rotate(35, resample=Image.Resampling.BILINEAR, expand=True)
        w, h = ramp.size
        ramp = ramp.crop((w // 4, h // 4, w - w // 4, h - h // 4))
    mask = ramp.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


class _Pen:
    """Draws in design coordinates; `zoom` enlarges around a centre for close-up photos."""

    def __init__(
        self,
        img: Image.Image,
        design_width: float,
        *,
        zoom: float = 1.0,
        centre: Point = (400, 300),
        shift: Point = (0, 0),
    ) -> None:
        self.img = img
        self.draw = ImageDraw.Draw(img)
        self.k = img.width / design_width
        self.zoom = zoom
        self.centre = centre
        self.shift = shift

    def xy(self, x: float, y: float) -> Point:
        cx, cy = self.centre
        return (
            (cx + (x - cx) * self.zoom + self.shift[0]) * self.k,
            (cy + (y - cy) * self.zoom + self.shift[1]) * self.k,
        )

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        a, b = self.xy(x0, y0), self.xy(x1, y1)
        return [a[0], a[1], b[0], b[1]]

    def w(self, width: float) -> int:
        return max(1, round(width * self.k * self.zoom))

    def ellipse(
        self, box: Sequence[float], fill: RGB | None = None, outline: RGB | None = None, width: float = 0
    ) -> None:
        self.draw.ellipse(self.box(*box), fill=fill, outline=outline, width=self.w(width) if outline else 0)

    def rect(
        self,
        box: Sequence[float],
        fill: RGB | None = None,
        outline: RGB | None = None,
        width: float = 0,
        radius: float = 0,
    ) -> None:
        self.draw.rounded_rectangle(
            self.box(*box),
            radius=radius * self.k * self.zoom,
            fill=fill,
            outline=outline,
            width=self.w(width) if outline else 0,
        )

    def polygon(
        self, points: Sequence[Point], fill: RGB | None = None, outline: RGB | None = None, width: float = 0
    ) -> None:
        self.draw.polygon(
            [self.xy(*p) for p in points], fill=fill, outline=outline, width=self.w(width) if outline else 0
        )

    def line(self, points: Sequence[Point], fill: RGB, width: float) -> None:
        self.draw.line([self.xy(*p) for p in points], fill=fill, width=self.w(width), joint="curve")

    def arc(self, box: Sequence[float], start: float, end: float, fill: RGB, width: float) -> None:
        self.draw.arc(self.box(*box), start, end, fill=fill, width=self.w(width))

    def text(self, at: Point, text: str, size: float, fill: RGB, anchor: str = "la") -> None:
        font = _font(max(6, round(size * self.k * self.zoom)))
        self.draw.text(self.xy(*at), text, font=font, fill=fill, anchor=anchor)

    def text_width(self, text: str, size: float) -> float:
        font = _font(max(6, round(size * self.k * self.zoom)))
        return self.draw.textlength(text, font=font) / (self.k * self.zoom)

    def patterned(self, points: Sequence[Point], paint: Callable[[ImageDraw.ImageDraw, int, int], None]) -> None:
        """Fill a polygon with a pattern painted in pixel space over its bounding box."""
        pts = [self.xy(*p) for p in points]
        x0, y0 = math.floor(min(p[0] for p in pts)), math.floor(min(p[1] for p in pts))
        x1, y1 = math.ceil(max(p[0] for p in pts)), math.ceil(max(p[1] for p in pts))
        if x1 <= x0 or y1 <= y0:
            return
        tile = Image.new("RGB", (x1 - x0, y1 - y0))
        paint(ImageDraw.Draw(tile), x1 - x0, y1 - y0)
        mask = Image.new("L", tile.size, 0)
        ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
        self.img.paste(tile, (x0, y0), mask)


def _leaf_points(base: Point, angle: float, length: float, width: float, steps: int = 12) -> list[Point]:
    """A pointed leaf from `base` along `angle` (radians, 0 = right, -pi/2 = up)."""
    dx, dy = math.cos(angle), math.sin(angle)
    nx, ny = -dy, dx
    left: list[Point] = []
    right: list[Point] = []
    for i in range(steps + 1):
        t = i / steps
        half = width / 2 * math.sin(math.pi * t) ** 0.8
        px, py = base[0] + dx * length * t, base[1] + dy * length * t
        left.append((px + nx * half, py + ny * half))
        right.append((px - nx * half, py - ny * half))
    return left + right[::-1]


def _leaf(pen: _Pen, base: Point, angle: float, length: float, width: float, colour: RGB) -> None:
    pen.polygon(_leaf_points(base, angle, length, width), fill=colour)
    tip = (base[0] + math.cos(angle) * length * 0.9, base[1] + math.sin(angle) * length * 0.9)
    pen.line([base, tip], _shade(colour, 0.7), 2.5)


def _text_bars(pen: _Pen, x0: float, y0: float, x1: float, colour: RGB, lines: int = 2) -> None:
    """Lines that read as small print on a label."""
    for i in range(lines):
        end = x1 - (x1 - x0) * (0.25 if i % 2 else 0.05)
        pen.rect((x0, y0 + i * 14, end, y0 + i * 14 + 6), fill=colour, radius=3)


def _shadow(pen: _Pen, cx: float, width: float, table: RGB) -> None:
    pen.ellipse((cx - width / 2, _GROUND - 14, cx + width / 2, _GROUND + 16), fill=_shade(table, 0.78))


# --- Motifs: each draws one kind of product standing on the table, around x = 400 --------------------


def _bottle(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    glass = _mix(c, (255, 255, 255), 0.55)
    edge = _shade(c, 0.55)
    _shadow(pen, 400, 190, table)
    pen.polygon([(342, 212), (378, 150), (422, 150), (458, 212)], fill=glass, outline=edge, width=3)
    pen.rect((335, 195, 465, _GROUND), fill=glass, outline=edge, width=3, radius=34)
    pen.rect((343, 236, 457, _GROUND - 7), fill=c, radius=28)
    pen.rect((378, 116, 422, 158), fill=glass, outline=edge, width=3)
    pen.rect((370, 90, 430, 124), fill=_shade(edge, 0.8), radius=7)
    pen.rect((350, 290, 450, 392), fill=_CREAM, outline=_shade(c, 0.7), width=2, radius=8)
    _leaf(pen, (372, 330), -0.5, 52, 24, (86, 140, 60))
    _text_bars(pen, 364, 352, 436, _shade(c, 0.6))
    pen.rect((350, 212, 360, 420), fill=_shade(glass, 1.5), radius=5)


def _jar(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    glass = _mix(c, (255, 255, 255), 0.5)
    _shadow(pen, 400, 240, table)
    pen.rect((300, 208, 500, _GROUND), fill=glass, outline=_shade(c, 0.6), width=3, radius=40)
    pen.rect((309, 236, 491, _GROUND - 9), fill=c, radius=32)
    lid = (196, 150, 64)
    pen.rect((290, 170, 510, 218), fill=lid, outline=_shade(lid, 0.7), width=3, radius=12)
    for x in range(304, 500, 16):
        pen.line([(x, 178), (x, 210)], _shade(lid, 0.8), 3)
    pen.rect((300, 300, 500, 384), fill=_CREAM)
    pen.ellipse((318, 318, 366, 366), fill=_shade(c, 0.85))
    _text_bars(pen, 380, 326, 482, _shade(c, 0.55), 3)
    pen.rect((316, 250, 328, 420), fill=_shade(glass, 1.45), radius=6)


def _round_pile(
    pen: _Pen, c: RGB, rng: random.Random, cx: float, base: float, radius: float, rows: Sequence[int]
) -> None:
    for row, count in enumerate(rows):
        y = base - radius - row * radius * 1.55
        start = cx - (count - 1) * radius * 0.95
        for i in range(count):
            x = start + i * radius * 1.9 + rng.uniform(-3, 3)
            r = radius * rng.uniform(0.88, 1.08)
            fill = _jitter(c, rng)
            pen.ellipse((x - r, y - r * 0.9, x + r, y + r * 0.9), fill=fill, outline=_shade(fill, 0.75), width=1.5)
            pen.ellipse((x - r * 0.5, y - r * 0.6, x - r * 0.05, y - r * 0.25), fill=_shade(fill, 1.25))


def _pile(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    wood = (150, 104, 62)
    pen.ellipse((210, _GROUND - 46, 590, _GROUND + 22), fill=_shade(wood, 0.8))
    pen.ellipse((222, _GROUND - 52, 578, _GROUND + 8), fill=wood)
    _round_pile(pen, c, rng, 400, _GROUND - 8, 20, (8, 7, 6, 5, 3, 2))


def _sack(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    burlap = (196, 158, 104)
    _shadow(pen, 400, 270, table)
    body = [(292, 240), (508, 240), (522, 360), (510, _GROUND), (290, _GROUND), (278, 360)]
    pen.polygon(body, fill=burlap, outline=_shade(burlap, 0.7), width=3)

    def weave(d: ImageDraw.ImageDraw, w: int, h: int) -> None:
        d.rectangle((0, 0, w, h), fill=burlap)
        step = max(3, w // 40)
        for x in range(0, w, step * 2):
            d.line((x, 0, x, h), fill=_shade(burlap, 0.9), width=max(1, step // 2))
        for y in range(0, h, step * 2):
            d.line((0, y, w, y), fill=_shade(burlap, 1.12), width=max(1, step // 2))

    pen.patterned(body, weave)
    pen.ellipse((280, 214, 520, 266), fill=_shade(burlap, 0.78))
    pen.ellipse((296, 220, 504, 256), fill=_shade(c, 0.8))
    _round_pile(pen, c, rng, 400, 250, 14, (7, 5, 3))
    pen.ellipse((350, 320, 450, 410), outline=(170, 52, 40), width=4)
    _text_bars(pen, 370, 352, 430, (170, 52, 40))


def _coconut(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    young = c[1] > c[0]
    husk = c
    _shadow(pen, 400, 380, table)
    for cx, cy, r in ((320, _GROUND - 92, 92), (488, _GROUND - 86, 86)):
        pen.ellipse((cx - r, cy - r * 1.02, cx + r, cy + r), fill=husk, outline=_shade(husk, 0.7), width=3)
        for _ in range(14):  # husk fibres
            a, d = rng.uniform(0, math.tau), rng.uniform(0, r * 0.7)
            x, y = cx + d * math.cos(a), cy + d * math.sin(a)
            pen.line([(x, y - 10), (x + rng.uniform(-4, 4), y + 10)], _shade(husk, 0.8), 2.5)
        if young:
            pen.ellipse((cx - r * 0.3, cy - r * 1.0, cx + r * 0.3, cy - r * 0.72), fill=_shade(husk, 1.3))
    shell = (110, 70, 40)
    pen.ellipse((318, _GROUND - 118, 482, _GROUND + 4), fill=shell, outline=_shade(shell, 0.7), width=3)
    pen.ellipse((330, _GROUND - 108, 470, _GROUND - 8), fill=(250, 248, 238))
    pen.ellipse((350, _GROUND - 92, 450, _GROUND - 26), fill=(232, 238, 230) if young else (238, 232, 214))


def _soap(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 410, 300, table)
    for i in range(3):
        x0 = 300 + (i % 2) * 18 - i * 4
        y0 = _GROUND - 62 - i * 60
        pen.rect((x0, y0, x0 + 220, y0 + 58), fill=_shade(c, 0.9), outline=_shade(c, 0.7), width=2, radius=18)
        pen.rect((x0 + 6, y0 + 5, x0 + 214, y0 + 26), fill=_shade(c, 1.12), radius=12)
        pen.ellipse((x0 + 80, y0 + 14, x0 + 140, y0 + 46), outline=_shade(c, 0.75), width=2)
    # one bar wrapped in brown paper with a twine
    paper = (190, 150, 104)
    pen.rect((540, _GROUND - 56, 660, _GROUND), fill=paper, outline=_shade(paper, 0.7), width=2, radius=6)
    pen.line([(600, _GROUND - 56), (600, _GROUND)], (236, 226, 200), 4)
    _leaf(pen, (205, _GROUND - 6), -1.0, 110, 40, (98, 150, 70))
    _leaf(pen, (205, _GROUND - 6), -1.6, 90, 34, (80, 132, 60))


def _briquette(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 360, table)
    size = 54
    for row, count in enumerate((6, 5, 4, 2)):
        y = _GROUND - size - row * size * 0.92
        start = 400 - count * size * 0.55
        for i in range(count):
            x = start + i * size * 1.1 + rng.uniform(-2, 2)
            fill = _jitter(c, rng, 8)
            pen.polygon([(x, y), (x + 14, y - 12), (x + size + 14, y - 12), (x + size, y)], fill=_shade(fill, 1.3))
            pen.polygon(
                [(x + size, y), (x + size + 14, y - 12), (x + size + 14, y + size - 12), (x + size, y + size)],
                fill=_shade(fill, 0.7),
            )
            pen.rect((x, y, x + size, y + size), fill=fill)
            pen.ellipse((x + size * 0.38, y + size * 0.38, x + size * 0.62, y + size * 0.62), fill=_shade(fill, 0.6))


def _woven(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 300, table)
    body = [(282, 252), (518, 252), (486, _GROUND), (314, _GROUND)]
    light, dark = _shade(c, 1.1), _shade(c, 0.8)

    def weave(d: ImageDraw.ImageDraw, w: int, h: int) -> None:
        d.rectangle((0, 0, w, h), fill=dark)
        cell = max(4, w // 14)
        for row, y in enumerate(range(0, h, cell // 2)):
            for col, x in enumerate(range(-cell, w, cell)):
                if (row + col) % 2 == 0:
                    d.rectangle((x + 1, y + 1, x + cell - 1, y + cell // 2 - 1), fill=light)

    pen.patterned(body, weave)
    pen.polygon(body, outline=_shade(c, 0.6), width=3)
    pen.ellipse((270, 228, 530, 276), fill=_shade(c, 0.7), outline=_shade(c, 0.55), width=3)
    pen.ellipse((292, 236, 508, 268), fill=_shade(c, 0.55))
    pen.rect((270, 248, 530, 262), fill=_shade(c, 0.9), radius=6)
    pen.arc((320, 140, 480, 330), 190, 350, _shade(c, 0.65), 10)


def _cloth(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 380, table)
    accent = _shade(c, 1.6) if sum(c) < 450 else _shade(c, 0.55)
    for i in range(3):
        x0, y0 = 230 + i * 14, _GROUND - 70 - i * 66
        shade = _shade(c, 0.85 + i * 0.08)
        pen.rect((x0, y0, x0 + 330, y0 + 64), fill=shade, outline=_shade(c, 0.6), width=2, radius=10)
        pen.rect((x0, y0 + 8, x0 + 330, y0 + 14), fill=accent)
        pen.rect((x0, y0 + 50, x0 + 330, y0 + 56), fill=accent)
        for k in range(9):
            cx = x0 + 22 + k * 36
            cy = y0 + 32
            pen.polygon([(cx, cy - 12), (cx + 12, cy), (cx, cy + 12), (cx - 12, cy)], fill=accent)
            pen.polygon([(cx, cy - 5), (cx + 5, cy), (cx, cy + 5), (cx - 5, cy)], fill=shade)
        pen.rect((x0 + 300, y0, x0 + 330, y0 + 64), fill=_shade(shade, 0.85), radius=10)


def _pack(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 230, table)
    pen.rect((312, 176, 488, _GROUND), fill=c, outline=_shade(c, 0.65), width=3, radius=20)
    pen.rect((312, 150, 488, 190), fill=_shade(c, 0.85), radius=4)
    for tooth in range(312, 488, 12):
        pen.polygon([(tooth, 150), (tooth + 6, 142), (tooth + 12, 150)], fill=_shade(c, 0.85))
    pen.line([(318, 202), (482, 202)], _shade(c, 0.7), 3)
    chip = (236, 196, 110) if sum(c) < 600 else _shade(c, 0.9)
    pen.rect((342, 226, 458, 332), fill=(246, 244, 236), radius=44)
    for _ in range(9):
        x, y = rng.uniform(356, 430), rng.uniform(240, 306)
        pen.ellipse((x, y, x + 28, y + 20), fill=_jitter(chip, rng, 10), outline=_shade(chip, 0.8), width=1)
    pen.rect((334, 350, 466, 420), fill=_CREAM, radius=8)
    _text_bars(pen, 350, 366, 450, _shade(c, 0.6), 3)
    for _ in range(5):
        x, y = rng.uniform(520, 610), rng.uniform(_GROUND - 20, _GROUND + 6)
        pen.ellipse((x, y, x + 30, y + 20), fill=_jitter(chip, rng, 10), outline=_shade(chip, 0.8), width=1)


def _cup(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    white = (250, 247, 240)
    pen.ellipse((262, _GROUND - 34, 538, _GROUND + 18), fill=_shade(white, 0.88))
    pen.ellipse((272, _GROUND - 38, 528, _GROUND + 6), fill=white)
    pen.ellipse((468, 282, 548, 372), outline=_shade(white, 0.85), width=16)
    pen.polygon([(310, 262), (490, 262), (470, _GROUND - 30), (330, _GROUND - 30)], fill=white)
    pen.ellipse((330, _GROUND - 50, 470, _GROUND - 14), fill=white)
    pen.ellipse((310, 246, 490, 280), fill=_shade(white, 0.9))
    pen.ellipse((320, 250, 480, 274), fill=c)
    for steam in (360, 400, 440):
        pen.line([(steam, 236), (steam - 12, 210), (steam + 4, 184), (steam - 8, 160)], (255, 255, 255), 5)
    for _ in range(6):
        x, y = rng.uniform(190, 260) if rng.random() < 0.5 else rng.uniform(560, 620), rng.uniform(430, 462)
        pen.ellipse((x, y, x + 28, y + 20), fill=(82, 52, 34))
        pen.line([(x + 6, y + 10), (x + 22, y + 10)], (50, 30, 20), 2)


def _fish(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    plate = (150, 108, 66)
    pen.ellipse((200, _GROUND - 90, 600, _GROUND + 20), fill=_shade(plate, 0.8))
    pen.ellipse((212, _GROUND - 98, 588, _GROUND + 6), fill=plate)
    for i, (x, y) in enumerate(((270, _GROUND - 88), (300, _GROUND - 40), (250, _GROUND - 140))):
        body = _jitter(c, rng, 10)
        pen.polygon([(x + 230, y + 30), (x + 290, y), (x + 280, y + 30), (x + 290, y + 62)], fill=_shade(body, 0.85))
        pen.ellipse((x, y, x + 250, y + 62), fill=body, outline=_shade(body, 0.7), width=2)
        pen.ellipse((x + 30, y + 16, x + 44, y + 30), fill=(30, 30, 30))
        pen.arc((x + 60, y + 4, x + 110, y + 60), 300, 60, _shade(body, 0.75), 3)
        for k in range(4):
            pen.arc((x + 110 + k * 24, y + 14, x + 134 + k * 24, y + 48), 300, 60, _shade(body, 0.85), 2)
        del i


def _block(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 380, table)
    pen.rect((300, _GROUND - 150, 500, _GROUND - 60), fill=_shade(c, 0.92), outline=_shade(c, 0.7), width=2, radius=10)
    pen.rect((300, _GROUND - 150, 500, _GROUND - 130), fill=_shade(c, 1.12), radius=10)
    wrap = (246, 238, 222)
    for row, count in enumerate((4, 3)):
        y = _GROUND - 50 - row * 44
        for i in range(count):
            x = 250.0 + row * 55 + i * 110 + rng.uniform(-4, 4)
            pen.polygon([(x - 28, y - 14), (x, y + 4), (x - 28, y + 22)], fill=_shade(wrap, 0.92))
            pen.polygon([(x + 98, y - 14), (x + 70, y + 4), (x + 98, y + 22)], fill=_shade(wrap, 0.92))
            pen.rect((x, y - 16, x + 70, y + 24), fill=wrap, outline=_shade(wrap, 0.8), width=1.5, radius=8)
            pen.rect((x + 18, y - 16, x + 52, y + 24), fill=_mix(c, wrap, 0.35))


def _leaves(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    _shadow(pen, 400, 260, table)
    base = (400, _GROUND - 10)
    for k in range(9):
        angle = -math.pi / 2 + (k - 4) * 0.28 + rng.uniform(-0.05, 0.05)
        length = 250 - abs(k - 4) * 22
        _leaf(pen, base, angle, length, 86 - abs(k - 4) * 6, _jitter(c, rng, 16))
    pen.ellipse((360, _GROUND - 40, 440, _GROUND + 6), fill=_shade(c, 1.3))


def _service(pen: _Pen, c: RGB, rng: random.Random, table: RGB) -> None:
    wood = (204, 160, 104)
    _shadow(pen, 420, 360, table)
    pen.ellipse((300, 220, 420, 250), fill=wood)
    pen.rect((312, 236, 408, _GROUND - 16), fill=c)
    for y in range(246, int(_GROUND - 20), 9):
        pen.line([(312, y), (408, y + 4)], _shade(c, 0.8), 2)
    pen.ellipse((300, _GROUND - 30, 420, _GROUND), fill=_shade(wood, 0.85))
    pen.line([(408, 300), (460, 330), (520, 300), (560, 340)], c, 3)
    steel = (170, 176, 186)
    pen.polygon([(470, 360), (640, 300), (646, 312), (480, 378)], fill=steel, outline=_shade(steel, 0.7), width=2)
    pen.polygon([(470, 380), (640, 420), (636, 432), (468, 396)], fill=steel, outline=_shade(steel, 0.7), width=2)
    pen.ellipse((430, 352, 478, 392), outline=(40, 40, 40), width=9)
    pen.ellipse((430, 376, 478, 416), outline=(40, 40, 40), width=9)
    tape = (240, 200, 60)
    pen.arc((180, 300, 340, 460), 100, 260, tape, 16)
    for a in range(110, 260, 12):
        rad = math.radians(a)
        pen.line(
            [
                (260 + 74 * math.cos(rad), 380 + 74 * math.sin(rad)),
                (260 + 84 * math.cos(rad), 380 + 84 * math.sin(rad)),
            ],
            (60, 50, 30),
            2,
        )


MOTIFS: dict[str, Callable[[_Pen, RGB, random.Random, RGB], None]] = {
    "bottle": _bottle,
    "jar": _jar,
    "pile": _pile,
    "sack": _sack,
    "coconut": _coconut,
    "soap": _soap,
    "briquette": _briquette,
    "woven": _woven,
    "cloth": _cloth,
    "pack": _pack,
    "cup": _cup,
    "fish": _fish,
    "block": _block,
    "leaf": _leaves,
    "service": _service,
}


def _fit(pen: _Pen, text: str, size: float, max_width: float, min_size: float = 18) -> tuple[str, float]:
    """Shrink the text to fit, then cut it with an ellipsis if it still does not."""
    while size > min_size and pen.text_width(text, size) > max_width:
        size -= 2
    if pen.text_width(text, size) <= max_width:
        return text, size
    while len(text) > 4 and pen.text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text.rstrip() + "…", size


def _encode(img: Image.Image, size: tuple[int, int]) -> bytes:
    if img.size != size:
        img = img.reduce(_SUPERSAMPLE) if img.width == size[0] * _SUPERSAMPLE else img.resize(size)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=94)
    return buffer.getvalue()


def product_image(
    name: str,
    *,
    motif: str,
    colour: str,
    category_slug: str,
    category_label: str,
    subtitle: str,
    variant: int = 0,
    size: tuple[int, int] = PRODUCT_SIZE,
) -> bytes:
    """A product photo: warm background, table, the motif, and a label with the name (JPEG bytes).

    `variant` 1 is a close-up with the seller in the label instead of the category.
    """
    rng = random.Random(f"{name}/{variant}")
    canvas = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    top, bottom = BACKGROUNDS.get(category_slug, _DEFAULT_BACKGROUND)
    if variant:
        top, bottom = _shade(top, 1.08), _mix(bottom, top, 0.3)
    img = _gradient(canvas, top, bottom, diagonal=bool(variant))
    flat = _Pen(img, 800)
    table = _mix(bottom, (120, 80, 50), 0.35)
    flat.rect((0, _GROUND - 40 if not variant else _GROUND - 70, 800, 600), fill=table)
    flat.rect(
        (0, _GROUND - 40 if not variant else _GROUND - 70, 800, _GROUND - 34 if not variant else _GROUND - 64),
        fill=_shade(table, 1.15),
    )
    if variant:
        pen = _Pen(img, 800, zoom=1.3, centre=(400, 300), shift=(0, -30))
    else:
        pen = _Pen(img, 800, zoom=1.12, centre=(400, _GROUND))
    MOTIFS.get(motif, _pack)(pen, hex_rgb(colour), rng, table)

    # the label
    flat.rect((28, 488, 772, 578), fill=_CREAM, radius=18)
    flat.rect((28, 488, 44, 578), fill=_shade(bottom, 0.8), radius=8)
    title, title_size = _fit(flat, name, 36, 700)
    flat.text((62, 500), title, title_size, _INK)
    sub, sub_size = _fit(flat, subtitle, 22, 700, 14)
    flat.text((62, 546), sub, sub_size, _shade(_INK, 1.4))
    if not variant:
        pill = category_label
        width = flat.text_width(pill, 22) + 36
        flat.rect((28, 26, 28 + width, 66), fill=_shade(bottom, 0.75), radius=20)
        flat.text((46, 34), pill, 22, _CREAM)
    flat.text((772, 34), "Pasar KUBE", 20, _shade(top, 0.6), anchor="ra")
    return _encode(img, size)


# --- KUBE banners ------------------------------------------------------------------------------------


def _ridge(
    pen: _Pen, rng: random.Random, base: float, amplitude: float, colour: RGB, width: float = 1200, bottom: float = 500
) -> None:
    phase, freq = rng.uniform(0, math.tau), rng.uniform(1.2, 2.4)
    points: list[Point] = [(0, bottom)]
    for i in range(41):
        x = width * i / 40
        y = base - amplitude * (0.6 * math.sin(freq * x / 200 + phase) + 0.4 * math.sin(x / 67 + phase * 2))
        points.append((x, y))
    points.append((width, bottom))
    pen.polygon(points, fill=colour)


def _palm(pen: _Pen, rng: random.Random, x: float, ground: float, height: float) -> None:
    lean = rng.uniform(-50, 50)
    trunk = [(x + lean * (t / 8) ** 2, ground - height * t / 8) for t in range(9)]
    pen.line(trunk, (112, 82, 56), 14)
    top = trunk[-1]
    for k in range(8):
        angle = -math.pi + k * math.pi / 7 + rng.uniform(-0.12, 0.12)
        _leaf(pen, top, angle + (0.35 if k > 3 else -0.35) * 0, 120, 30, _jitter((52, 110, 52), rng, 12))
    for dx in (-10, 6):
        pen.ellipse((top[0] + dx - 9, top[1] + 2, top[0] + dx + 9, top[1] + 20), fill=(96, 120, 40))


def _house(pen: _Pen, rng: random.Random, x: float, ground: float, stilts: bool) -> None:
    wall = rng.choice([(236, 214, 170), (214, 180, 140), (236, 228, 206), (200, 222, 210)])
    roof = rng.choice([(150, 64, 48), (120, 80, 60), (96, 96, 110)])
    lift = 26 if stilts else 0
    if stilts:
        for sx in (x + 8, x + 50, x + 92):
            pen.line([(sx, ground), (sx, ground - lift)], (100, 76, 52), 5)
    pen.rect((x, ground - lift - 60, x + 100, ground - lift), fill=wall, outline=_shade(wall, 0.7), width=2)
    pen.polygon([(x - 12, ground - lift - 58), (x + 50, ground - lift - 104), (x + 112, ground - lift - 58)], fill=roof)
    pen.rect((x + 16, ground - lift - 44, x + 36, ground - lift - 22), fill=_shade(wall, 0.55))
    pen.rect((x + 60, ground - lift - 44, x + 84, ground - lift), fill=_shade(wall, 0.5))


def kube_banner(name: str, place: str, *, scene: str, size: tuple[int, int] = BANNER_SIZE) -> bytes:
    """A KUBE banner: a landscape (coast, hills or town) with the KUBE's name and village (JPEG bytes)."""
    rng = random.Random(name)
    canvas = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    img = _gradient(canvas, (250, 186, 120), (255, 238, 204))
    pen = _Pen(img, 1200)
    sun_x = rng.uniform(960, 1100)
    pen.ellipse((sun_x - 90, 40, sun_x + 90, 220), fill=(255, 226, 170))
    pen.ellipse((sun_x - 55, 75, sun_x + 55, 185), fill=(255, 246, 214))
    _ridge(pen, rng, 250, 40, (176, 150, 170))
    if scene == "coast":
        _ridge(pen, rng, 300, 20, (130, 150, 120))
        pen.rect((0, 320, 1200, 420), fill=(70, 150, 168))
        for _ in range(22):
            x, y = rng.uniform(0, 1160), rng.uniform(330, 410)
            pen.line([(x, y), (x + 40, y)], (150, 205, 214), 3)
        for bx in (rng.uniform(560, 700), rng.uniform(880, 1000)):
            pen.polygon([(bx, 360), (bx + 90, 360), (bx + 74, 376), (bx + 14, 376)], fill=(150, 70, 50))
            pen.polygon([(bx + 44, 300), (bx + 44, 356), (bx + 84, 356)], fill=(245, 240, 226))
        pen.rect((0, 410, 1200, 500), fill=(236, 212, 164))
        for hx in (rng.uniform(520, 600), rng.uniform(760, 840)):
            _house(pen, rng, hx, 446, stilts=True)
        for px in (90, 260, 980, 1120):
            _palm(pen, rng, px + rng.uniform(-30, 30), 470, rng.uniform(220, 300))
    elif scene == "town":
        _ridge(pen, rng, 320, 24, (150, 176, 120))
        pen.rect((0, 430, 1200, 500), fill=(120, 116, 112))
        for x in range(0, 1200, 80):
            pen.rect((x + 20, 462, x + 60, 468), fill=(236, 232, 220))
        for hx in range(20, 1180, 130):
            _house(pen, rng, hx + rng.uniform(-10, 10), 430, stilts=False)
        for tx in (rng.uniform(100, 300), rng.uniform(800, 1100)):
            pen.line([(tx, 430), (tx, 360)], (100, 76, 52), 10)
            for _ in range(5):
                x, y = tx + rng.uniform(-40, 40), 340 + rng.uniform(-30, 20)
                pen.ellipse((x - 40, y - 30, x + 40, y + 30), fill=_jitter((70, 130, 60), rng))
    else:  # hills: rolling fields, terraces, trees, a few houses
        _ridge(pen, rng, 320, 30, (120, 160, 96))
        _ridge(pen, rng, 390, 24, (96, 146, 72))
        for k in range(6):
            y = 410 + k * 16
            pen.line([(0, y + rng.uniform(-4, 4)), (1200, y + rng.uniform(-4, 4))], (130, 176, 92), 3)
        for hx in (rng.uniform(540, 640), rng.uniform(700, 800)):
            _house(pen, rng, hx, 420, stilts=False)
        for _ in range(9):
            tx, ty = rng.uniform(0, 1200), rng.uniform(370, 440)
            pen.line([(tx, ty + 40), (tx, ty)], (100, 76, 52), 7)
            pen.ellipse((tx - 30, ty - 46, tx + 30, ty + 6), fill=_jitter((60, 120, 56), rng))
    # the name plate
    title, title_size = _fit(pen, name, 54, 1000, 30)
    sub, sub_size = _fit(pen, place, 26, 1000, 16)
    width = max(pen.text_width(title, title_size), pen.text_width(sub, sub_size)) + 64
    pen.rect((36, 34, 36 + width, 160), fill=(255, 250, 240), radius=22)
    pen.rect((36, 34, 52, 160), fill=(200, 112, 60), radius=8)
    pen.text((70, 48), title, title_size, _INK)
    pen.text((70, 116), sub, sub_size, (110, 90, 70))
    return _encode(img, size)
