"""Outboxes: work written in the same transaction as its cause, sent afterwards by workers.

The desk has two (mail and webhooks); they differ only in their table, their settings and how
a row leaves. `sender` holds everything else once: claiming a row so that several workers send
it once per attempt, back-off, FAILED after the limit, recovery of rows left by a worker that
died, manual retries, and the worker loop (a task in every server process, or a command).
"""
