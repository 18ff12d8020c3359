"""Financing services (issue 18): white lists, loan products, demands, matching, applications.

Public documents (white lists, loan products, KPI snapshots) are stored here in their
RFC 8785 form and anchored on chain by their publishers' signed `Publish` acts
(`ledger.chain.publications`); demands and applications are the enterprise's and the
institution's private business, kept in the database only.
"""
