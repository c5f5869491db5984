"""One module per schema revision, oldest first; each has an upgrade and a downgrade."""
