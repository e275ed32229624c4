"""Admin pages: user accounts (invite, role, deactivate) and the mail that could not be sent."""
