"""The signer's private page: /me/<token> and what it offers."""
