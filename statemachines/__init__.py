"""Pure lifecycle state machines for irpd: tables as data, no I/O.

Modules: ``lifecycle`` (the table → lookup + ``transitions`` Machine), ``job`` (commands
and Moody's reported statuses), ``batch``, ``configuration``, ``recon`` (batch
reconciliation rule), ``polling`` (poll scheduling), ``diagrams`` (Mermaid, from the
tables), ``errors`` (``IllegalTransition``). Only the stdlib and ``transitions`` are
imported here; the daemon carries the decisions out.
"""
