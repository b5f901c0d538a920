"""irpd's domain operations over PostgreSQL, one object per area (see :mod:`irpd.ops.facade`)."""

from irpd.ops.configurations import WorkbookRejectedError
from irpd.ops.facade import Operations

__all__ = ["Operations", "WorkbookRejectedError"]
