"""Loaders for data that does not come from the generator: real source systems and user files.

``berka``: the PKDD'99 Czech bank, decoded into ``raw.berka_*`` extracts that dbt's
``staging/berka`` models read. ``csv_file``: any CSV file as a typed ``raw`` table, so a user can
declare a model on it (``ml/*.yml``) without writing Python.
"""
