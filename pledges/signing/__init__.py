"""Signing a pledge: the sign form and email confirmation."""
