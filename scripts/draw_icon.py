"""Draw the treadreverse brand icons (flat, legible down to 48 px).

.venv/bin/python scripts/draw_icon.py   writes custom_components/treadreverse/brand/icon.png
                                         (256 px) and icon@2x.png (512 px)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "treadreverse" / "brand"
S = 1024  # drawing size; downsampled for anti-aliasing
BG = (15, 118, 110)  # teal
FG = (255, 255, 255)
ACCENT = (251, 191, 36)  # amber
DARK = (9, 78, 73)


def line(d: ImageDraw.ImageDraw, pts: list[tuple[int, int]], w: int, fill: tuple[int, ...]) -> None:
    """Draw a polyline with round caps."""
    d.line(pts, fill=fill, width=w, joint="curve")
    r = w / 2
    for x, y in (pts[0], pts[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def draw(size: int) -> Image.Image:
    """Draw the icon at 1024 px and scale it down."""
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, S - 1, S - 1), radius=220, fill=BG)
    # belt (deck) with rollers
    d.rounded_rectangle((130, 760, 894, 850), radius=45, fill=FG)
    # front upright and handlebar (console on the right)
    line(d, [(800, 780), (745, 420)], 58, FG)
    line(d, [(745, 420), (625, 445)], 50, FG)
    for cx in (190, 834):
        d.ellipse((cx - 26, 805 - 26, cx + 26, 805 + 26), fill=DARK)
    # person facing the console, walking backward (towards the left)
    hx, hy = 520, 250
    d.ellipse((hx - 62, hy - 62, hx + 62, hy + 62), fill=FG)
    line(d, [(505, 340), (470, 560)], 64, FG)  # torso, leaning slightly
    line(d, [(495, 390), (585, 465), (630, 450)], 46, FG)  # arm to handlebar
    line(d, [(470, 560), (545, 650), (560, 738)], 56, FG)  # front leg
    line(d, [(470, 560), (400, 650), (340, 738)], 56, FG)  # back leg (stepping back)
    # backward arrow (motion to the left)
    line(d, [(330, 430), (150, 430)], 56, ACCENT)
    d.polygon([(80, 430), (190, 340), (190, 520)], fill=ACCENT)
    return img.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    draw(256).save(BRAND / "icon.png", optimize=True)
    draw(512).save(BRAND / "icon@2x.png", optimize=True)
