"""The HTTP errors the site raises on purpose, and the message key the one error page shows."""

from __future__ import annotations

from werkzeug.exceptions import HTTPException, ServiceUnavailable

__all__ = ["MESSAGE_KEYS", "NotAcceptingSubmissions", "NotSaved", "message_key_for"]

# templates/error.html turns a key into a calm, translated sentence; it never says which stage
# of the server failed. Unlisted codes get "internal".
MESSAGE_KEYS: dict[int, str] = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_attempts",
    503: "unavailable",
}


class NotAcceptingSubmissions(ServiceUnavailable):
    """No investigator key is active: nothing can be sealed, so no submission is taken."""

    message_key = "not_accepting"


class NotSaved(ServiceUnavailable):
    """The disk filled up or the database went away while a submission was being stored.

    Each whole file and the typed answers were committed to the witness's draft as they
    arrived, so what came before the failure is kept (only the part in progress is removed):
    the page says so and sends the witness to the form, which shows the draft. Also raised
    before the body is read when the free-disk guard cannot reserve the declared length.
    """

    message_key = "not_saved"


def message_key_for(exc: HTTPException) -> str:
    """The error page's message key for an HTTP error."""
    key = getattr(exc, "message_key", None)
    if isinstance(key, str):
        return key
    return MESSAGE_KEYS.get(exc.code or 500, "internal")
