"""Data files shipped with the core (country names)."""
