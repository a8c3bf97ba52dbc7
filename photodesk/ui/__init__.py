"""The PySide6 desktop app: a front end over the core's public API."""
