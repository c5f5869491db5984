"""Corroborate: suggest related submissions, group them as incidents, count independent sources.

Step three of the workflow: suggestions only; an investigator decides every grouping.
"""
