"""Credit records: validated ingestion, sealed storage, the anchored record log, proofs.

- `submission` / `validation`: what providers send, checked against the catalogue;
- `catalogues`: catalogue versions (current on chain, content in the database);
- `crypto`: AES-256-GCM / SM4-GCM sealing of sensitive fields with rotatable key ids;
- `canonical`: the committed form of a record (salted) and its log leaf;
- `ingest`: the two-phase, all-or-nothing ingestion with idempotency and corrections;
- `service`: use cases for the API and CLI; `verify`: offline proof verification.
"""
