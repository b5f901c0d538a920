"""``Operations``: irpd's domain operations over one database, used by the daemon, the control
socket, the web console and the tests: one object per area (``ops.batches.submit_batch``,
``ops.jobs.skip_job``, …), called directly, with nothing forwarding in between. Every
operation validates its arguments before touching the database, refuses with
``CycleError`` / ``ConfigurationError`` / ``BatchError`` / ``JobError`` (nothing written), and
returns JSON-able dicts/lists (timestamps as ISO-8601 strings).
"""

from __future__ import annotations

from irpd.db.database import Database
from irpd.ops.batches import Batches
from irpd.ops.configurations import Configurations
from irpd.ops.cycles import Cycles
from irpd.ops.jobs import Jobs
from irpd.ops.plans import CyclePlans
from irpd.ops.ports import TransformerRegistry, WorkbookLoader
from irpd.ops.recon import Recon
from irpd.ops.reports import Reports
from irpd.ops.resubmission import Resubmissions
from irpd.ops.tracking import Tracking
from irpd.ops.withdrawal import Withdrawals


class Operations:
    """The domain operations over one :class:`Database`, by area (see the module docstring).

    ``transformers`` (batch types) and ``load_workbook`` (the Excel loader) are injected by
    the composition root; tests may inject their own.
    """

    def __init__(
        self, db: Database, transformers: TransformerRegistry, load_workbook: WorkbookLoader
    ) -> None:
        #: the database, for the paged listings of :mod:`irpd.ops.listings`
        self.db = db
        self.cycles = Cycles(db)
        self.configurations = Configurations(db, load_workbook)
        self.batches = Batches(db, transformers)
        self.recon = Recon(db)
        self.jobs = Jobs(db)
        self.resubmissions = Resubmissions(db, transformers)
        self.tracking = Tracking(db)
        self.reports = Reports(db)
        self.withdrawals = Withdrawals(db, self.jobs)
        self.plans = CyclePlans(db, transformers)
