"""Email through a transactional outbox: queue in the caller's transaction, deliver after."""

from pledges.mail.outbox import queue_email, queue_personal_email

__all__ = ["queue_email", "queue_personal_email"]
