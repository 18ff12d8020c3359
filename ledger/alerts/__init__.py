"""Alerts to lending institutions (issue 19): an outbox written in the triggering
transaction, a gate that clears each alert like a release, and a sender that delivers
thin Standard Webhooks messages and loses nothing.

- `model`: what a trigger hands over (`AlertDraft`) and what the gate answers.
- `outbox`: the outbox table and `enqueue` (in the caller's transaction).
- `gate`: the `DeliveryGate` protocol the sender calls once per alert.
- `endpoints`: registered receivers, their URL policy, secrets and handshake.
- `sender`: the delivery worker (one leader at a time).
- `feed`: the pull feed and redelivery.
"""
