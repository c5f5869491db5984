"""The witness site and the admin CLI `intake`."""
