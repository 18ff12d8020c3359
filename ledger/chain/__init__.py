"""The chain adapter: compile, deploy, transact, read events, decode contract errors."""
