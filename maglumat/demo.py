"""The embedded demo's defaults: the moment the simulated sector systems are brought to, and the
seed of their data. The simulator and the command line both read them here."""

import datetime as dt

DEFAULT_SEED = 20230901
DEFAULT_AS_OF = dt.datetime(2023, 10, 1, 6, 0, tzinfo=dt.UTC)  # 11:00 in Aşgabat, 1 October 2023
