"""Scheduled management reports: their periods, the snapshot each period is read from, the
schedules that request them, and their delivery (archive tree and e-mail)."""
