"""A consent change is confirmed twice: the codename typed again, then a summary page.

The codename's derivation (one, counted like a login) also opens the testimony's current
consent from the witness's sealed records (protocol.consent's rule, as on the account page),
so the summary can say what changes from what; nothing opened is kept past that response.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from intake.models import Witness
from intake.web.services.consent_view import ConsentState
from intake.web.services.context import WebContext
from intake.web.services.witness import consent_now

__all__ = ["Confirmed", "confirm_codename"]


@dataclass(frozen=True)
class Confirmed:
    """The codename was right; `current` is the testimony's consent when its record opened."""

    current: ConsentState | None


def confirm_codename(
    ctx: WebContext, witness_id: str, codename: str, parent_id: str
) -> Confirmed | None:
    """Confirmed when `codename` is this witness's, else None. `parent_id` is one of the
    witness's testimonies (the form's choices). Raises KdfBusyError when no slot frees up."""
    keys = ctx.deriver.derive(ctx.codenames.repair(codename))
    with ctx.sessions() as session:
        witness = session.get(Witness, witness_id)
        if witness is None or not hmac.compare_digest(witness.lookup, keys.lookup):
            return None
        return Confirmed(current=consent_now(session, witness, keys.identity, parent_id))
