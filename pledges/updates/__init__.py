"""Organizers' updates to signers, step-up milestones, and the update emails' fan-out."""
