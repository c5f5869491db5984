"""A private Tor network on 127.0.0.1 (three authorities, relays, the shipped onion service)."""
