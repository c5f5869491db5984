"""Keys: the investigator's own (age identity, minisign pair), the team's recipients, re-wrap."""
