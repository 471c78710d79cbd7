"""Error types with stable codes and bilingual messages.

Every error the platform raises on purpose is a :class:`CityBrainError`. Its ``code`` is
stable (clients may switch on it); its ``kind`` says what went wrong in protocol-neutral
terms, and the API maps kinds to HTTP status codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorKind(StrEnum):
    """What kind of failure an error is, independent of any protocol."""

    INVALID = "invalid"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    NOT_ACCEPTABLE = "not_acceptable"  # no representation the caller accepts
    UNSUPPORTED_MEDIA = "unsupported_media"  # a body in a format not taken
    UNPROCESSABLE = "unprocessable"  # well-formed, but the operation is not supported
    NOT_IMPLEMENTED = "not_implemented"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class FieldError:
    """Name one bad field and why it is bad."""

    field: str
    reason: str


@dataclass(eq=False)
class CityBrainError(Exception):
    """Raise for any expected failure; carries a stable code and zh/en messages."""

    code: str
    message_zh: str
    message_en: str
    kind: ErrorKind = ErrorKind.INVALID
    errors: tuple[FieldError, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message_en}")

    @property
    def message(self) -> str:
        """Return the message, Chinese first, then English."""
        return f"{self.message_zh} / {self.message_en}"


class InvalidInput(CityBrainError):
    """Raise when input is malformed or breaks a rule."""

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.INVALID, errors)


class NotFound(CityBrainError):
    """Raise when a named thing does not exist."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.NOT_FOUND)


class Conflict(CityBrainError):
    """Raise when an action clashes with the current state."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.CONFLICT)


class Unauthenticated(CityBrainError):
    """Raise when the caller could not be identified."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.UNAUTHENTICATED)


class Forbidden(CityBrainError):
    """Raise when the caller is known but not allowed."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.FORBIDDEN)


class Unavailable(CityBrainError):
    """Raise when a needed service cannot be reached."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, ErrorKind.UNAVAILABLE)
