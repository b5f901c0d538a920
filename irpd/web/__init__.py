"""The web console and HTTP API (``irpd web``, docs/web.md)."""
