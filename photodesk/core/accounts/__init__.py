"""Accounts: users, passwords, sessions, API keys and quotas (service), OIDC identities, TOTP two-
factor.

May import: jobs, media, inference, catalog (sharing is handed in as ``ReadGrants``).
"""
