"""The authorized release of enterprise data: the path the whole system exists for."""
