"""The coded evidence: loading, validating and scaffolding review folders (layout of ``data/reviews``).

The schema is defined once in :mod:`whatworks.data.schema` and explained in ``docs/data-schema.md``.
"""

from .fingerprint import collection_files, collection_fingerprint
from .load import (Collection, DataQualityWarning, list_reviews, load_collection, load_pooled, load_reviews,
                   load_risk_of_bias)
from .problems import DataValidationError, Problem
from .risk_of_bias import attach_risk_of_bias
from .recompute import recompute_effects, settings_of
from .roots import CollectionRoot, bundled_root, find_root, resolve_root
from .settings import EffectSettings
from .template import scaffold
from .trials import one_effect_per_trial
from .validate import validate

__all__ = [
    "Collection",
    "CollectionRoot",
    "DataQualityWarning",
    "DataValidationError",
    "attach_risk_of_bias",
    "EffectSettings",
    "Problem",
    "bundled_root",
    "find_root",
    "collection_files",
    "collection_fingerprint",
    "list_reviews",
    "load_collection",
    "load_pooled",
    "load_reviews",
    "load_risk_of_bias",
    "one_effect_per_trial",
    "recompute_effects",
    "resolve_root",
    "scaffold",
    "settings_of",
    "validate",
]
