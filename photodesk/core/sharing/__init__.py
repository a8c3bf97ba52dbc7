"""Sharing: albums shared between accounts (grants) and public links (links).

May import: catalog, accounts, organize.
"""
