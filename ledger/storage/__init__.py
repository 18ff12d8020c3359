"""Relational storage: SQLAlchemy models, engine set-up and migrations."""
