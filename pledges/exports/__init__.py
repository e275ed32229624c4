"""Organizers taking signatures out of the app: a CSV of the columns they choose, and a
signer's signed pledge PDF. Each download is audited."""
