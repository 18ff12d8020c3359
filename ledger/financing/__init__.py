"""Financing services on the ledger: white lists, loan products, demands and applications,
loan reporting and the KPIs of 四(四) (issue 18)."""
