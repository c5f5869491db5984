"""The pages that only inform: the landing page."""

from __future__ import annotations

from flask import Blueprint, Response

from intake.web.pages import page

__all__ = ["register"]


def register(bp: Blueprint) -> None:
    """Add the informational routes to `bp`."""

    @bp.get("/")
    def landing() -> Response:
        return page("landing.html")
