"""Canonical unpadded base64 and BIP-173 Bech32 (without the 90-character limit), as age uses them.

Decoders raise `ValueError`; each caller turns it into the error of its own layer (a header,
a key), because the same bad base64 means different things in different places.
"""

from __future__ import annotations

import binascii

B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CHECKSUM_LEN = 6


def b64encode(data: bytes) -> str:
    """Standard-alphabet base64 without `=` padding (always canonical)."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    """Decode unpadded base64, rejecting padding, stray characters and non-canonical encodings.

    Non-canonical means unused trailing bits that are not zero, or a length of 1 mod 4; both
    would let two different strings carry the same bytes, which the age header MAC must not allow.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(raw) % 4 == 1 or not B64_ALPHABET.issuperset(raw):
        raise ValueError("invalid base64")
    try:
        data = binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64") from exc
    if b64encode(data).encode("ascii") != raw:
        raise ValueError("non-canonical base64")
    return data


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or (acc << (to_bits - bits)) & maxv:
        raise ValueError("invalid padding in bech32 data")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """Encode `data` under `hrp`; an upper-case `hrp` gives an all upper-case string."""
    lower = hrp.lower()
    if hrp not in (lower, hrp.upper()):
        raise ValueError("mixed-case bech32 prefix")
    values = _convert_bits(data, 8, 5, pad=True)
    poly = _polymod([*_hrp_expand(lower), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(_BECH32_CHECKSUM_LEN)]
    text = lower + "1" + "".join(_BECH32_CHARSET[v] for v in values + checksum)
    return text.upper() if hrp != lower else text


def bech32_decode(text: str) -> tuple[str, bytes]:
    """Return (prefix as written, data). Bech32, not Bech32m; no length limit, as age does."""
    if not text.isascii() or text not in (text.lower(), text.upper()):
        raise ValueError("bech32 string is mixed-case or not ASCII")
    pos = text.rfind("1")
    if pos < 1 or pos + _BECH32_CHECKSUM_LEN + 1 > len(text):
        raise ValueError("bech32 separator at an invalid position")
    hrp = text[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("invalid character in bech32 prefix")
    try:
        values = [_BECH32_VALUES[c] for c in text[pos + 1 :].lower()]
    except KeyError as exc:
        raise ValueError("invalid character in bech32 data") from exc
    if _polymod([*_hrp_expand(hrp.lower()), *values]) != 1:
        raise ValueError("invalid bech32 checksum")
    data = _convert_bits(values[:-_BECH32_CHECKSUM_LEN], 5, 8, pad=False)
    return hrp, bytes(data)
