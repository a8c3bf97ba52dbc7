"""Sharing: albums shared between accounts (grants) and public links (links).

May import: ingest and everything below it.
"""
