"""Signing a pledge: the form, email confirmation, and the signer's private page."""
