"""Notifications: the transactional outbox, its sender and channels (docs/monitoring.md)."""
