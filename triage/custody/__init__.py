"""Chain of custody: the hash-chained log every step appends to, its signed checkpoints."""
