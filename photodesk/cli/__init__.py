"""The photodesk command line: a thin front end over the core."""
