"""Use cases of the ledger, each over the database and the chain, free of HTTP."""
