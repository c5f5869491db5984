"""Case bundles: an incident's evidence planned by consent, written, signed, sealed, verified.

Step four of the workflow: what leaves the laptop for a prosecutor or a partner.
"""
