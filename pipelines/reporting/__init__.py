"""Scheduled management reports, the one home of their scheduling: the Dagster assets and jobs
(``assets``), their periods, the snapshot each period is read from, the schedules that request
them, and their delivery (archive tree and e-mail). What a report says and how it looks is
rendered by ``warehouse.reports``."""
