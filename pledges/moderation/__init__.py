"""Moderation: the review queue, hiding and approving signatures, public reports, audit log."""
