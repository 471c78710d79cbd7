"""Adapters: the only place drivers are imported (SQL engines, NATS, MQTT, DuckDB)."""
