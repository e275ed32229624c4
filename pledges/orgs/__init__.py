"""Ally organizations: organizers keep their records; each has a public page."""
