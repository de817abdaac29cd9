"""Alerts out: the outbox worker, when each alert may go (mutes, digests), and the Notifier seam that
each chat platform implements."""
