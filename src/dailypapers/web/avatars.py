"""A member's avatar, made from their name alone: a 5 × 5 identicon, mirrored left to right,
in a colour of its own. No image service is asked, nothing is stored, and the same name
always gives the same picture (so browsers may keep it)."""

from __future__ import annotations

import hashlib

GRID = 5
CELL = 8  # SVG units; the picture scales to whatever size a page shows it at
MARGIN = 4


def _cells(digest: bytes) -> list[tuple[int, int]]:
    """The filled cells (column, row): the left half and middle from the hash's bits, the
    right half their mirror image."""
    half = (GRID + 1) // 2
    filled = []
    for row in range(GRID):
        for column in range(half):
            if digest[row * half + column] & 1:
                filled.append((column, row))
                if column != GRID - 1 - column:
                    filled.append((GRID - 1 - column, row))
    return sorted(filled)


def identicon_svg(username: str) -> str:
    digest = hashlib.sha256(username.encode()).digest()
    hue = int.from_bytes(digest[-2:]) * 360 // 65536
    size = GRID * CELL + 2 * MARGIN
    squares = "".join(
        f'<rect x="{MARGIN + column * CELL}" y="{MARGIN + row * CELL}" '
        f'width="{CELL}" height="{CELL}"/>'
        for column, row in _cells(digest)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" role="img">'
        f'<rect width="{size}" height="{size}" fill="hsl({hue} 30% 94%)"/>'
        f'<g fill="hsl({hue} 55% 42%)">{squares}</g></svg>'
    )
