"""whatworks: evidence synthesis for psychosocial interventions.

Meta-analysis whose numbers equal R's metafor, and a coded loneliness-intervention dataset in which
every number is traceable to its source. ``import whatworks`` does not import ``matplotlib.pyplot``.
"""

from .model import meta_analyze
from .results import MetaResult

__version__ = "0.1.0"
__all__ = ["MetaResult", "meta_analyze", "__version__"]
