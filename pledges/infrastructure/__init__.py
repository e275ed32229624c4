"""Infrastructure: what every feature stands on and none of them owns (the database's
plumbing, rate limits and IP hashes, audit log writing, backups, security headers, logs,
health checks, tokens and hashes, URLs). It imports no feature and no domain rule."""
