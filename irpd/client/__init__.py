"""``irpd.client``: the notebook helpers of the system irpd replaced, over the console's HTTP
API (docs/client.md). Porting a notebook means changing its imports::

    from irpd.client import Client, BatchError, JobError, ConfigurationError

    irpd = Client("http://127.0.0.1:8457", token="...")   # or $IRPD_URL / $IRPD_TOKEN
    batch_id = irpd.create_batch("analysis", configuration_id=4)
    irpd.submit_batch(batch_id)
"""

from irpd.client.aio import AsyncClient
from irpd.client.calls import ApiError, Unavailable
from irpd.client.frames import to_dataframe
from irpd.client.sync import Client
from irpd.errors import BatchError, ConfigurationError, CycleError, JobError

__all__ = [
    "ApiError",
    "AsyncClient",
    "BatchError",
    "Client",
    "ConfigurationError",
    "CycleError",
    "JobError",
    "Unavailable",
    "to_dataframe",
]
