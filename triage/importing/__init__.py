"""Import: scan an export bundle, open what is sealed to us, store it, count its recipients, ack it.

Step one of the workflow. This file imports nothing, so a command module may import one light
module of the package without loading the heavy ones (see triage/cli/__init__.py).
"""
