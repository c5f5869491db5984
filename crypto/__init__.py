"""age v1 sealed files, minisign signatures and witness keys, on PyNaCl and the standard library."""

from crypto.age import (
    Sealer,
    header_for_file_key,
    open_bytes,
    open_into,
    open_stream,
    open_to_file,
    rewrap_header,
    seal_bytes,
)
from crypto.armor import ArmorReader, ArmorWriter
from crypto.errors import (
    ArmorError,
    CryptoError,
    HeaderError,
    KeyFormatError,
    MacError,
    NoIdentityMatchError,
    PayloadError,
    SignatureError,
)
from crypto.header import Identity, Recipient
from crypto.keyfile import (
    fingerprint,
    identity_file_text,
    parse_identities,
    parse_recipient,
    read_identities,
    read_recipients_file,
    readable_by_others,
    write_identity_file,
)
from crypto.scrypt import ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity, X25519Recipient

# The lead adds the minisign (SigningKey, VerifyKey, sign, verify) and witness (derive,
# normalise_codename, WitnessKeys, KdfCost, DEFAULT_COST) exports here when those modules land.
__all__ = [
    "ArmorError",
    "ArmorReader",
    "ArmorWriter",
    "CryptoError",
    "HeaderError",
    "Identity",
    "KeyFormatError",
    "MacError",
    "NoIdentityMatchError",
    "PayloadError",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "Sealer",
    "SignatureError",
    "X25519Identity",
    "X25519Recipient",
    "fingerprint",
    "header_for_file_key",
    "identity_file_text",
    "open_bytes",
    "open_into",
    "open_stream",
    "open_to_file",
    "parse_identities",
    "parse_recipient",
    "read_identities",
    "read_recipients_file",
    "readable_by_others",
    "rewrap_header",
    "seal_bytes",
    "write_identity_file",
]
