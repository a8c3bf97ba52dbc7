"""The sync daemon (`photodesk serve`, aiohttp): a headless front end over the core."""
