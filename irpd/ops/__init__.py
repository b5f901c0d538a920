"""irpd's domain operations: one async API over PostgreSQL (see :mod:`irpd.ops.facade`)."""

from irpd.ops.configurations import WorkbookRejectedError
from irpd.ops.facade import Operations

__all__ = ["Operations", "WorkbookRejectedError"]
