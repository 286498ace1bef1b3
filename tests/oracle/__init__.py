"""An independent recomputation of the published indicators from the simulated sector systems'
own records (the simulators' generated records, as the systems held them at the run's instant),
in plain Python and polars: never from the warehouse's tables and never from its SQL.

``engine`` rolls base rows up to the published grain (period types, region levels, enterprise
rows, aggregation kinds); one module per sector builds each indicator's base rows from the
simulator's records and states the definitions it reads from the catalogue; ``compare`` joins an
expected frame with the published one and lists every difference.
"""
