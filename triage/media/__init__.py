"""Media evidence (issue M): the home for reading and checking photos, audio and video offline.

Empty on purpose: issue S2 moved the tree once so that issue M adds modules here, moving nothing.
"""
