"""Command-line entry points: ``irpd`` (the daemon and its tools) and ``irpctl`` (operators)."""
