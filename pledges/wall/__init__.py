"""The public wall of confirmed signers, its counters and its cache."""
