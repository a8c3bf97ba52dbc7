"""Organizing a library: assets (rating, favourite, archive, trash), albums, tags, edits, folders,
the map (geo) and the timeline reads.

May import: jobs, media, inference, catalog.
"""
