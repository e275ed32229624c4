"""The public, read-only JSON API (v1). Public fields only: never an email or a hash."""
