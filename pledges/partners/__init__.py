"""Accountability partners: people a signer invites to confirm or query their actions."""
