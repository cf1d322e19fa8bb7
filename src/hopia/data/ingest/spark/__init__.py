"""The ingest on Spark: the local ingest's pseudonymisation and NLP per partition, Parquet out.

- :mod:`.components`: the components, built once per Python worker;
- :mod:`.rows`: one partition through the local ingest's steps, as rows (no Spark);
- :mod:`.job`: the Spark job (``mapInPandas``, staging, the Parquet tables).
"""
