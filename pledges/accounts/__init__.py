"""Organizer and admin accounts: logging in and out, password resets, lock-out, roles."""
