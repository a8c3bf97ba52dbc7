"""ICC colour profiles without their words: the colour data stays, descriptions and names go.

A profile's text tags (description, copyright, device maker and model, viewing conditions,
metadata dictionary) can hold anything a file's author wrote, and its header names the device
and the software that made it. ``neutral_icc`` rebuilds the profile with the same colour tags,
text tags replaced by one neutral word, other text-like tags dropped and the header's device,
creator and profile id cleared.
"""

from __future__ import annotations

import struct

HEADER = 128
# Tags of text types: their words are replaced, the tag kept (desc and cprt are required).
TEXT_TAGS = frozenset({b"desc", b"cprt", b"dmnd", b"dmdd", b"vued", b"scrd"})
# Tags that only carry words or identifiers: dropped.
DROPPED_TAGS = frozenset({b"meta", b"ciis", b"targ", b"pseq", b"psid", b"clrt", b"clot"})
NEUTRAL = "Colour profile"


def _text_tag(type_sig: bytes) -> bytes | None:
    """A neutral tag body of the given text type (None for a type that is not text)."""
    if type_sig == b"mluc":
        text = NEUTRAL.encode("utf-16-be")
        return (
            b"mluc" + bytes(4) + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(text), 28) + text
        )
    if type_sig == b"desc":  # ICC v2 textDescriptionType: ASCII, an empty Unicode and ScriptCode
        ascii_text = NEUTRAL.encode("ascii") + b"\x00"
        return (
            b"desc"
            + bytes(4)
            + struct.pack(">I", len(ascii_text))
            + ascii_text
            + bytes(4 + 4 + 2 + 1 + 67)
        )
    if type_sig == b"text":
        return b"text" + bytes(4) + NEUTRAL.encode("ascii") + b"\x00"
    return None


def neutral_icc(data: bytes | None) -> bytes | None:
    """The profile with its words removed; None when it is not a readable ICC profile (then no
    profile is better than one that may carry text)."""
    if not data or len(data) < HEADER + 4 or data[36:40] != b"acsp":
        return None
    try:
        count = struct.unpack(">I", data[HEADER : HEADER + 4])[0]
        if count > 200 or HEADER + 4 + 12 * count > len(data):
            return None
        entries = []
        for i in range(count):
            at = HEADER + 4 + 12 * i
            sig, offset, size = struct.unpack(">4sII", data[at : at + 12])
            if offset + size > len(data) or size < 8:
                return None
            entries.append((sig, offset, size))
    except struct.error:
        return None
    kept: list[tuple[bytes, bytes]] = []
    for sig, offset, size in entries:
        body = data[offset : offset + size]
        if sig in DROPPED_TAGS:
            continue
        if sig in TEXT_TAGS:
            neutral = _text_tag(body[:4])
            if neutral is None:
                continue
            body = neutral
        kept.append((sig, body))
    return _build(data[:HEADER], kept)


def _build(header: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    table_end = HEADER + 4 + 12 * len(tags)
    offset = table_end + (-table_end % 4)
    table = bytearray(struct.pack(">I", len(tags)))
    blobs = bytearray()
    placed: dict[bytes, int] = {}  # tags that shared data (rTRC/gTRC/bTRC) still share it
    for sig, body in tags:
        where = placed.get(body)
        if where is None:
            where = offset + len(blobs)
            placed[body] = where
            blobs += body + bytes(-len(body) % 4)
        table += struct.pack(">4sII", sig, where, len(body))
    out = bytearray(header) + table + bytes(offset - table_end) + blobs
    out[0:4] = struct.pack(">I", len(out))
    out[48:56] = bytes(8)  # device manufacturer and model
    out[80:100] = bytes(20)  # creator and profile id (the content changed)
    return bytes(out)
