"""A JPEG's quality, estimated from its luminance quantisation table (IJG scaling), so an
output keeps the input's own quality by default."""

from __future__ import annotations


def jpeg_quality(source) -> int | None:
    """The quality a JPEG was saved at, estimated from its luminance table (IJG scaling)."""
    if isinstance(source, bytes):
        head = source[: 1 << 16]
    else:
        with open(source, "rb") as f:
            head = f.read(1 << 16)
    at = head.find(b"\xff\xdb")
    if at < 0 or len(head) < at + 69:
        return None
    precision, table = head[at + 4] >> 4, head[at + 5 : at + 69]
    if precision:
        return None
    scale = sum(table) * 100.0 / sum(_IJG_LUMA)
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return int(min(100, max(1, round(quality))))


# fmt: off
_IJG_LUMA = (  # the IJG's standard luminance quantisation table, quality 50
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)
# fmt: on
