"""The benchmark: the real pipeline at scale factors, beside a pandas + PostgreSQL baseline."""
