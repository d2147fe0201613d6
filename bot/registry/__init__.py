"""The model registry kept in git: schemas, planning, checks and backends."""
