"""Witness text: made safe to show, laid out for people, transliterated for search."""
