"""Check-in cycles: commitment sustained over time, not signed once and forgotten."""
