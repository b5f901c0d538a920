"""The built-in batch types and ``builtin_registry()``."""

from __future__ import annotations

from typing import Final

from irpd.transformers.analysis import analysis
from irpd.transformers.contracts import CONTRACTS
from irpd.transformers.export import export_to_rdm
from irpd.transformers.exposure import edm_creation, geohaz, mri_import, portfolio_creation
from irpd.transformers.generic import default, multi_job
from irpd.transformers.groups import grouping, grouping_rollup
from irpd.transformers.registry import Transformer, TransformerRegistry
from irpd.transformers.treaties import create_reinsurance_treaties, edm_db_upgrade

BUILTINS: Final[tuple[tuple[str, Transformer], ...]] = (
    ("default", default),
    ("multi_job", multi_job),
    ("edm_creation", edm_creation),
    ("portfolio_creation", portfolio_creation),
    ("mri_import", mri_import),
    ("create_reinsurance_treaties", create_reinsurance_treaties),
    ("edm_db_upgrade", edm_db_upgrade),
    ("geohaz", geohaz),
    ("analysis", analysis),
    ("grouping", grouping),
    ("grouping_rollup", grouping_rollup),
    ("export_to_rdm", export_to_rdm),
)


def builtin_registry() -> TransformerRegistry:
    """A fresh registry holding the built-in batch types."""
    registry = TransformerRegistry()
    for name, function in BUILTINS:
        registry.add(name, function, contract=CONTRACTS.get(name))
    return registry
