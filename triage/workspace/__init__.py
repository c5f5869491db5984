"""The investigator's workspace on disk: layout, lock, blobs, database, code lists, context."""
