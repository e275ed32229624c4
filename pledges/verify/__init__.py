"""Signed pledge documents: issuing them, and public verification by code or by file."""
