"""dsc: the DeepSeek-Coder data engine, rebuilt.

The hot loops live in the compiled module :mod:`dsc._dsc` (Rust, Polars expression plugins);
this package holds the typed Python front: stage functions over Polars frames and the
``python -m dsc.build_corpus`` pipeline.
"""

from dsc import namespace as _namespace  # registers pl.col(...).dsc
from dsc._dsc import __version__

__all__ = ["__version__"]
del _namespace
