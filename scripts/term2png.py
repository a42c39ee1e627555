#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (text with ANSI colours) to a PNG.

    tmux capture-pane -e -p -t SESSION | scripts/term2png.py out.png
Needs Pillow and the DejaVu Sans Mono font (fonts-dejavu-core).
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BG, FG = (30, 30, 36), (220, 220, 220)
BASE = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200),
        (188, 63, 188), (17, 168, 205), (229, 229, 229), (102, 102, 102), (241, 76, 76),
        (35, 209, 139), (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219),
        (255, 255, 255)]


def xterm256(n):
    if n < 16:
        return BASE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


def parse(text):
    rows = []
    for line in text.rstrip("\n").split("\n"):
        fg, bg, bold, rev = None, None, False, False
        cells = []
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
            if not m:
                for ch in part:
                    cells.append((ch, fg, bg, bold, rev))
                continue
            codes = [int(c) if c else 0 for c in m.group(1).split(";")]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, rev = None, None, False, False
                elif c == 1:
                    bold = True
                elif c == 22:
                    bold = False
                elif c == 7:
                    rev = True
                elif c == 27:
                    rev = False
                elif 30 <= c <= 37:
                    fg = BASE[c - 30]
                elif 90 <= c <= 97:
                    fg = BASE[c - 90 + 8]
                elif 40 <= c <= 47:
                    bg = BASE[c - 40]
                elif 100 <= c <= 107:
                    bg = BASE[c - 100 + 8]
                elif c == 39:
                    fg = None
                elif c == 49:
                    bg = None
                elif c in (38, 48) and i + 1 < len(codes):
                    if codes[i + 1] == 5 and i + 2 < len(codes):
                        col = xterm256(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2 and i + 4 < len(codes):
                        col = tuple(codes[i + 2:i + 5])
                        i += 4
                    else:
                        col = None
                    if c == 38:
                        fg = col
                    else:
                        bg = col
                i += 1
        rows.append(cells)
    return rows


def main():
    out = sys.argv[1]
    rows = parse(sys.stdin.read())
    size = 16
    font, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(BOLD, size)
    cw = int(font.getlength("M"))
    ch = size + 4
    cols = max((len(r) for r in rows), default=80)
    img = Image.new("RGB", (cols * cw + 16, len(rows) * ch + 16), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (c, fg, bg, b, rev) in enumerate(row):
            f, g = fg or FG, bg or BG
            if rev:
                f, g = g, f
            px, py = 8 + x * cw, 8 + y * ch
            if g != BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=g)
            o = ord(c)
            if 0x2800 <= o <= 0x28FF:
                # Braille (ratatui's chart dots): drawn as a 2x4 grid, few fonts have them.
                bits = o - 0x2800
                for bit, (bx, by) in enumerate([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]):
                    if bits & (1 << bit):
                        cx = px + (bx * 2 + 1) * cw // 4
                        cy = py + (by * 2 + 1) * ch // 8
                        d.ellipse([cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5], fill=f)
            elif c != " ":
                d.text((px, py + 1), c, font=bold if b else font, fill=f)
    img.save(out)


if __name__ == "__main__":
    main()
