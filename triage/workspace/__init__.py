"""The investigator's workspace on disk: layout, lock, sealed blobs, database and context."""
