"""The parts of a submission: answers, file entries and consent changes, each valid when built."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from protocol import codes, ids
from protocol._json import is_unicode
from protocol.errors import ProtocolError
from protocol.fields import (
    GROUP_FIELDS,
    TESTIMONY_FIELDS,
    AnswerValue,
    FieldSpec,
)

__all__ = [
    "MAX_FILE_GROUPS",
    "Answers",
    "ConsentAction",
    "ConsentChange",
    "FileEntry",
    "HashSource",
    "require",
    "str_field",
    "int_field",
    "exact_keys",
]

ConsentAction = Literal["withdraw", "narrow"]
HashSource = Literal["server", "browser"]
# The witness site offers three file groups.
MAX_FILE_GROUPS = 3
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError("schema", message)


def exact_keys(data: object, what: str, names: set[str]) -> dict[str, Any]:
    """`data` as a dict with exactly the keys `names`."""
    require(isinstance(data, dict), f"{what} is not an object")
    assert isinstance(data, dict)  # noqa: S101 - narrowing for mypy after the check above
    require(set(data) == names, f"{what} must have exactly the keys {sorted(names)}")
    return data


def int_field(value: object, what: str, low: int, high: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    require(ok, f"{what} must be an integer from {low} to {high}")
    assert isinstance(value, int)  # noqa: S101 - narrowing for mypy
    return value


def str_field(value: object, what: str) -> str:
    require(isinstance(value, str), f"{what} must be a string")
    assert isinstance(value, str)  # noqa: S101 - narrowing for mypy
    require(is_unicode(value), f"{what} is not valid Unicode")
    return value


@dataclass(frozen=True)
class Answers:
    """Answers keyed by form field id (see protocol.fields); absent means not answered."""

    values: Mapping[str, AnswerValue] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, data: object, fields: Mapping[str, FieldSpec] = TESTIMONY_FIELDS) -> Answers:
        """Check every value against its field. Raises ProtocolError("schema")."""
        require(isinstance(data, dict), "answers are not an object")
        assert isinstance(data, dict)  # noqa: S101 - narrowing for mypy
        unknown = sorted(set(data) - set(fields))
        require(not unknown, f"unknown answer fields {unknown[:5]}")
        checked = {key: fields[key].check(key, value) for key, value in data.items()}
        return cls(MappingProxyType(dict(sorted(checked.items()))))

    def to_dict(self) -> dict[str, object]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.values.items()}

    def text(self, field_id: str) -> str | None:
        value = self.values.get(field_id)
        return value if isinstance(value, str) else None

    def codes(self, field_id: str) -> tuple[str, ...]:
        value = self.values.get(field_id)
        return value if isinstance(value, tuple) else ()


@dataclass(frozen=True)
class FileEntry:
    """One uploaded file: where its sealed blob is, what was sealed, and its group's answers."""

    blob_name: str
    sealed_sha256: str
    plaintext_sha256: str
    size: int
    declared_type: str
    original_name: str  # as the browser sent it; may identify the witness; never a path
    group: int
    group_answers: Answers
    # Who computed plaintext_sha256 and size (schema version 2): the server, sealing the file
    # as it arrived, or the witness's browser, which sealed it (issue 16); the server cannot
    # check a browser's, so triage import's check of it is the first. Version 1: the server.
    plaintext_sha256_by: HashSource = "server"

    _KEYS = frozenset(
        {"blob_name", "sealed_sha256", "plaintext_sha256", "size", "declared_type"}
        | {"original_name", "group", "group_answers"}
    )
    _KEYS_V2 = _KEYS | {"plaintext_sha256_by"}

    def __post_init__(self) -> None:
        ids.parse_blob_name(self.blob_name)
        for name in ("sealed_sha256", "plaintext_sha256"):
            require(bool(_SHA256_RE.fullmatch(getattr(self, name))), f"{name} is not SHA-256 hex")
        require(0 <= self.size < 2**63, "file size out of range")
        require(
            len(self.declared_type) <= 255 and self.declared_type.isprintable(),
            "declared_type is not a printable string of at most 255 characters",
        )
        require(
            len(self.original_name) <= 1024
            and "\x00" not in self.original_name
            and is_unicode(self.original_name),
            "original_name is too long, contains NUL or is not valid Unicode",
        )
        require(1 <= self.group <= MAX_FILE_GROUPS, "file group out of range")
        require(self.plaintext_sha256_by in get_args(HashSource), "unknown plaintext_sha256_by")

    @classmethod
    def parse(cls, data: object, version: int = 2) -> FileEntry:
        """Build from a file entry of schema `version` (1 or 2). Raises ProtocolError."""
        entry = exact_keys(data, "a file entry", set(cls._KEYS if version < 2 else cls._KEYS_V2))
        by = str_field(entry.get("plaintext_sha256_by", "server"), "plaintext_sha256_by")
        require(by in get_args(HashSource), "unknown plaintext_sha256_by")
        return cls(
            blob_name=str_field(entry["blob_name"], "blob_name"),
            sealed_sha256=str_field(entry["sealed_sha256"], "sealed_sha256"),
            plaintext_sha256=str_field(entry["plaintext_sha256"], "plaintext_sha256"),
            size=int_field(entry["size"], "size", 0, 2**63 - 1),
            declared_type=str_field(entry["declared_type"], "declared_type"),
            original_name=str_field(entry["original_name"], "original_name"),
            group=int_field(entry["group"], "group", 1, MAX_FILE_GROUPS),
            group_answers=Answers.parse(entry["group_answers"], GROUP_FIELDS),
            plaintext_sha256_by=cast(HashSource, by),
        )

    def to_dict(self, version: int = 2) -> dict[str, object]:
        """The entry as schema `version` writes it (1 cannot say a browser hashed it)."""
        keys = self._KEYS if version < 2 else self._KEYS_V2
        data: dict[str, object] = {key: getattr(self, key) for key in keys}
        data["group_answers"] = self.group_answers.to_dict()
        return data


@dataclass(frozen=True)
class ConsentChange:
    """The witness withdraws consent, or narrows it to `recipients` (A4 codes).

    Whether a "narrow" really narrows is judged against the consent as given, by the rule in
    protocol.consent (triage's import and the server's account page).
    """

    action: ConsentAction
    recipients: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require(self.action in get_args(ConsentAction), "unknown consent action")
        for code in self.recipients:
            require(codes.is_valid("recipient_class", code), f"unknown recipient class {code!r}")
        require(len(set(self.recipients)) == len(self.recipients), "repeated recipient class")
        if self.action == "withdraw":
            require(not self.recipients, "a withdrawal names no recipients")
        else:
            require(bool(self.recipients), "narrowing consent keeps at least one recipient")

    @classmethod
    def parse(cls, data: object) -> ConsentChange:
        change = exact_keys(data, "consent_change", {"action", "recipients"})
        recipients = change["recipients"]
        require(isinstance(recipients, list), "consent_change.recipients is not a list")
        action = str_field(change["action"], "consent action")
        require(action in get_args(ConsentAction), "unknown consent action")
        return cls(
            action=cast(ConsentAction, action),
            recipients=tuple(str_field(code, "a recipient class") for code in recipients),
        )

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "recipients": list(self.recipients)}
