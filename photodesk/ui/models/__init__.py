"""Qt item models over the core's query API (ids fetched in pages)."""
