"""ChaCha20-Poly1305 (IETF) on chunks inside reusable buffers, through PyNaCl's libsodium.

`nacl.bindings` takes and returns `bytes`: every 64 KiB chunk would be copied in, zero-filled,
sealed and copied out again. These two calls reach the same libsodium functions through the
cffi module PyNaCl itself is built on (`nacl._sodium`), reading from and writing to buffers
that are reused (or straight from the caller's immutable `bytes`), which saves about a sixth
of the CPU time of a large file. The GIL is released during each call, so two threads seal or
open two chunks at once. Nothing else uses this path; stanza bodies (file keys) go through
`nacl.bindings` as usual.
"""

from __future__ import annotations

import nacl.bindings  # noqa: F401 - importing it runs sodium_init(), which selects fast code
from nacl._sodium import ffi, lib  # type: ignore[import-not-found]  # PyNaCl's own cffi module

__all__ = ["KEY_SIZE", "NONCE_SIZE", "TAG_SIZE", "open_into", "seal_into"]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def _check(key: bytes, nonce: bytes) -> None:
    # libsodium reads exactly 32 and 12 bytes through these pointers: never pass shorter ones.
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError("ChaCha20-Poly1305 needs a 32-byte key and a 12-byte nonce")


def seal_into(
    dst: bytearray,
    dst_offset: int,
    src: bytes | bytearray,
    src_offset: int,
    size: int,
    *,
    nonce: bytes,
    key: bytes,
) -> None:
    """Seal src[src_offset:src_offset+size] into dst[dst_offset:], tag included.

    `src` may be `dst` at the same offset (sealing in place): libsodium XORs the key stream,
    then authenticates the ciphertext, so c == m is fine.
    """
    _check(key, nonce)
    if size < 0 or src_offset < 0 or src_offset + size > len(src):
        raise ValueError("plaintext out of range")
    if dst_offset < 0 or dst_offset + size + TAG_SIZE > len(dst):
        raise ValueError("sealed chunk does not fit in the buffer")
    lib.crypto_aead_chacha20poly1305_ietf_encrypt(
        ffi.from_buffer(dst) + dst_offset,
        ffi.NULL,
        ffi.from_buffer(src) + src_offset,
        size,
        ffi.NULL,
        0,
        ffi.NULL,
        nonce,
        key,
    )


def open_into(
    dst: bytearray,
    dst_offset: int,
    src: bytearray,
    src_offset: int,
    size: int,
    *,
    nonce: bytes,
    key: bytes,
) -> bool:
    """Open the `size`-byte sealed chunk at src[src_offset:] into dst[dst_offset:].

    Returns False, leaving `src` untouched, if the chunk does not authenticate under this nonce
    (libsodium then zeroes the destination, so opening is never done in place: the caller may
    retry the same ciphertext with the other final-chunk flag).
    """
    _check(key, nonce)
    if size < TAG_SIZE or src_offset < 0 or src_offset + size > len(src):
        raise ValueError("sealed chunk out of range")
    if dst_offset < 0 or dst_offset + size - TAG_SIZE > len(dst):
        raise ValueError("plaintext does not fit in the buffer")
    status = lib.crypto_aead_chacha20poly1305_ietf_decrypt(
        ffi.from_buffer(dst) + dst_offset,
        ffi.NULL,
        ffi.NULL,
        ffi.from_buffer(src) + src_offset,
        size,
        ffi.NULL,
        0,
        nonce,
        key,
    )
    return bool(status == 0)
