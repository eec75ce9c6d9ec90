"""The one stylesheet of almanac, shared by the documentation site and the HTML reports.

>>> "--am-accent" in stylesheet()
True
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["stylesheet"]


@cache
def stylesheet() -> str:
    """The text of ``almanac/assets/almanac.css``."""
    return resources.files("almanac").joinpath("assets", "almanac.css").read_text(encoding="utf-8")
