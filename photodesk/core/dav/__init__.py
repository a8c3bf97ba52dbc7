"""WebDAV spaces for phone backup apps: names over assets, dead properties and locks."""
