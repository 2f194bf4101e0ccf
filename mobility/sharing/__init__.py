"""Shared mobility (GBFS): the snapshot model, the parser with schema validation, the HTTP client."""
