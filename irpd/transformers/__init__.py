"""Batch types: pure functions from ``configuration_data`` to job configurations.

``builtin_registry().transform("analysis", configuration_data)``; add your own with
``@registry.register("name")`` or the ``irpd.transformers`` entry point group.
"""

from irpd.transformers.catalogue import BUILTINS, builtin_registry
from irpd.transformers.registry import (
    ENTRY_POINT_GROUP,
    EntryPointReport,
    Transformer,
    TransformerRegistry,
    load_entry_points,
)

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "EntryPointReport",
    "Transformer",
    "TransformerRegistry",
    "builtin_registry",
    "load_entry_points",
]
