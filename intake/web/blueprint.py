"""The witness blueprint, built from the collaborators handed over by the app factory."""

from __future__ import annotations

from flask import Blueprint

from intake.context import Services
from intake.web import static
from intake.web.i18n import current_language
from intake.web.services.context import WebContext
from intake.web.views import consent, followup, pages, parts, start, testimony, witness

__all__ = ["make_blueprint"]


def make_blueprint(services: Services) -> Blueprint:
    """The witness blueprint bound to `services`; the one stylesheet is served from 'self'."""
    ctx = WebContext.build(services)
    bp = Blueprint("web", __name__)
    # The pages that announce a codename say how many words it has in their language.
    bp.context_processor(lambda: {"codename_words": ctx.codenames.word_count(current_language())})
    static.register(bp)
    pages.register(bp)
    start.register(bp, ctx)
    testimony.register(bp, ctx)
    parts.register(bp, ctx)
    witness.register(bp, ctx)
    followup.register(bp, ctx)
    consent.register(bp, ctx)
    # Tests reach the context (the derivation counter) through the blueprint.
    bp.web_context = ctx  # type: ignore[attr-defined]
    return bp
