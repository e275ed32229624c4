"""Signers on a world map: the wall's map as an image of its own (cached with the wall),
and what the table beside it needs."""
