"""Paperline's vocabulary, shared by every other room: snapshots, the job's life, errors, messages, settings.

No I/O and no service: everything else imports from here, and this imports from nothing else in Paperline."""
