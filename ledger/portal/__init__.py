"""The web portal's domain side: sign-in by a signed challenge, portal sessions, page views.

The HTTP side (`api/portal/`) renders pages from the views assembled here; it signs
nothing and holds no key: every key stays in the member's browser, which signs the
sign-in challenge and every act itself.
"""
