"""Pure lifecycle state machines for irpd: tables as data, no I/O."""
