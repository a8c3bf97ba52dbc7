"""The desktop's side of a paired server: HTTP transport, device keys, pairing (docs/sync.md)."""
