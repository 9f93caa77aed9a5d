"""The coded evidence: loading, validating and scaffolding review folders (layout of ``data/reviews``).

The schema is defined once in :mod:`whatworks.data.schema` and explained in ``docs/data-schema.md``.
"""

from .load import Collection, DataQualityWarning, bundled_root, list_reviews, load_collection, load_pooled, load_reviews
from .problems import DataValidationError, Problem
from .template import scaffold
from .validate import validate

__all__ = [
    "Collection",
    "DataQualityWarning",
    "DataValidationError",
    "Problem",
    "bundled_root",
    "list_reviews",
    "load_collection",
    "load_pooled",
    "load_reviews",
    "scaffold",
    "validate",
]
