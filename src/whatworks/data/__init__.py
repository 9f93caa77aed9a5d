"""The coded evidence: loading, validating and scaffolding review folders (layout of ``data/reviews``).

The schema is defined once in :mod:`whatworks.data.schema` and explained in ``docs/data-schema.md``.
"""

from .fingerprint import collection_files, collection_fingerprint
from .load import DataQualityWarning, list_reviews, load_pooled, load_reviews
from .problems import DataValidationError, Problem
from .roots import bundled_root, resolve_root
from .template import scaffold
from .validate import validate

__all__ = [
    "DataQualityWarning",
    "DataValidationError",
    "Problem",
    "bundled_root",
    "collection_files",
    "collection_fingerprint",
    "list_reviews",
    "load_pooled",
    "load_reviews",
    "resolve_root",
    "scaffold",
    "validate",
]
