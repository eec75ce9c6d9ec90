"""Benchmarks: almanac against its peers, measured side by side in one process.

Each suite (``activations``, ...) is a module of this package with a ``cases(scale)`` function returning
:class:`~almanac.bench.harness.Case` objects; :func:`~almanac.bench.harness.run` times them interleaved.
"""

SUITES = ("activations", "metrics", "losses", "lint")
