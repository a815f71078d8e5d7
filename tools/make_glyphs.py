"""SDF glyph ranges (`{fontstack}/{start}-{end}.pbf`) for the web map's labels.

MapLibre draws text from signed distance fields in the Mapbox glyph protobuf format
(the format node-fontnik writes: 24 px glyphs, a 3 px buffer, an edge at 192 of 255 and
8 px of distance either side). This writes them from open-licence fonts in Debian's
fonts-noto-core into app/static/glyphs/, one fontstack that holds Latin (Noto Sans) and
Arabic (Noto Sans Arabic, including the presentation forms the RTL text plugin shapes
Arabic into), so one `text-font` serves both languages.

    pip install -e '.[glyphs]'    # freetype-py, numpy, scipy
    python tools/make_glyphs.py   # writes app/static/glyphs/<fontstack>/*.pbf

Each glyph is rendered at 4x and its distance field computed there (scipy's exact
Euclidean distance transform), then averaged down to 24 px: smoother edges than a
distance field of the 24 px bitmap.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import freetype
import numpy as np
from scipy.ndimage import distance_transform_edt

FONTS = Path("/usr/share/fonts/truetype/noto")
LICENCE = Path("/usr/share/doc/fonts-noto-core/copyright")
OUT = Path(__file__).resolve().parents[1] / "app" / "static" / "glyphs"
FONTSTACK = "Noto Sans Regular"
SIZE, BUFFER, RADIUS, CUTOFF = 24, 3, 8, 0.25
SCALE = 4  # oversampling of the distance field

# (font file, code points): Latin, its supplements and general punctuation from Noto
# Sans; Arabic, its supplement and presentation forms A and B from Noto Sans Arabic.
# Earlier sources win for a code point both have.
SOURCES = [
    ("NotoSans-Regular.ttf", [(0x0000, 0x024F), (0x2000, 0x206F)]),
    (
        "NotoSansArabic-Regular.ttf",
        [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF), (0x2000, 0x206F)],
    ),
]


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 31)


def field(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


def message(number: int, body: bytes) -> bytes:
    return field(number, 2) + varint(len(body)) + body


def uint(number: int, value: int) -> bytes:
    return field(number, 0) + varint(value)


def sint(number: int, value: int) -> bytes:
    return field(number, 0) + varint(zigzag(value))


def render(face: freetype.Face, code: int, ascender: float) -> bytes | None:
    """One glyph message (fields as in glyphs.proto), or None when the font lacks it."""
    index = face.get_char_index(code)
    if not index:
        return None
    face.load_glyph(index, freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
    slot = face.glyph
    advance = round(slot.advance.x / 64 / SCALE)
    bm = slot.bitmap
    if bm.width == 0 or bm.rows == 0:  # a space
        return uint(1, code) + uint(3, 0) + uint(4, 0) + sint(5, 0) + sint(6, 0) + uint(7, advance)
    hi = np.array(bm.buffer, dtype=np.uint8).reshape(bm.rows, bm.pitch)[:, : bm.width]
    bl, bt = slot.bitmap_left, slot.bitmap_top  # hi-res pixels, top measured up
    left, top = bl // SCALE, -((-bt) // SCALE)
    right, bottom = -((-(bl + bm.width)) // SCALE), (bt - bm.rows) // SCALE
    w, h = right - left, top - bottom
    pad = BUFFER + RADIUS  # room for the field beyond the buffer, so the edge is right
    canvas = np.zeros(((h + 2 * pad) * SCALE, (w + 2 * pad) * SCALE), dtype=bool)
    x0, y0 = bl - (left - pad) * SCALE, (top + pad) * SCALE - bt
    canvas[y0 : y0 + bm.rows, x0 : x0 + bm.width] = hi >= 128
    outside = distance_transform_edt(~canvas)
    inside = distance_transform_edt(canvas)
    signed = (outside - inside) / SCALE  # low-res pixels, positive outside
    blocks = signed.reshape(h + 2 * pad, SCALE, w + 2 * pad, SCALE).mean(axis=(1, 3))
    cut = pad - BUFFER
    field_px = blocks[cut : cut + h + 2 * BUFFER, cut : cut + w + 2 * BUFFER]
    values = np.clip(255 - 255 * (field_px / RADIUS + CUTOFF), 0, 255).round().astype(np.uint8)
    return (
        uint(1, code)
        + message(2, values.tobytes())
        + uint(3, w)
        + uint(4, h)
        + sint(5, left)
        + sint(6, top - round(ascender))
        + uint(7, advance)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    faces = []
    for file, ranges in SOURCES:
        face = freetype.Face(str(FONTS / file))
        face.set_char_size(SIZE * SCALE * 64)
        faces.append((face, ranges))
    # one baseline for both scripts: Noto Sans's ascender (as fontnik's `top - ascender`)
    ascender = faces[0][0].size.ascender / 64 / SCALE
    wanted: dict[int, freetype.Face] = {}
    for face, ranges in faces:
        for a, b in ranges:
            for code in range(a, b + 1):
                if code not in wanted and face.get_char_index(code):
                    wanted[code] = face
    target = args.out / FONTSTACK
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for start in sorted({code // 256 * 256 for code in wanted}):
        end = start + 255
        glyphs = [
            message(3, g)
            for code in range(start, end + 1)
            if code in wanted and (g := render(wanted[code], code, ascender))
        ]
        name = f"{start}-{end}"
        head = message(1, FONTSTACK.encode()) + message(2, name.encode())
        body = message(1, head + b"".join(glyphs))
        (target / f"{name}.pbf").write_bytes(body)
        print(f"{name}: {len(glyphs)} glyphs, {len(body)} bytes")
    shutil.copy(LICENCE, args.out / "COPYRIGHT-fonts-noto-core.txt")


if __name__ == "__main__":
    main()
