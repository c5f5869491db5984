"""age v1 sealed files, minisign signatures and witness keys, on PyNaCl and the standard library."""
