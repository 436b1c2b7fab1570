"""How tensors print: ``mg.set_printoptions``, as ``torch.set_printoptions``."""

from __future__ import annotations

import math
from typing import Any

_PROFILES = {  # PyTorch's profiles: (precision, threshold, edgeitems, linewidth)
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}
# the keyword arguments of np.array2string that tensors print with (NumPy's defaults
# until set)
options: dict[str, Any] = {}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print: digits after the point, how many elements print in full
    before the middle is summarised, how many at each edge then, the line width; a
    ``profile`` ("default", "short", "full") sets all four as PyTorch's does;
    ``sci_mode`` True prints floats in scientific notation, False never, None as NumPy
    chooses."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; one of "
                             f"{', '.join(_PROFILES)}")
        precision, threshold, edgeitems, linewidth = (
            given if given is not None else default
            for given, default in zip((precision, threshold, edgeitems, linewidth),
                                      _PROFILES[profile]))
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("max_line_width", linewidth)):
        if value is not None:
            options[name] = value if name != "threshold" or value != math.inf else 2**63 - 1
    if sci_mode is not None:
        options.pop("formatter", None)
        options.pop("suppress_small", None)
        if sci_mode:
            digits = options.get("precision", 4)
            options["formatter"] = {"float_kind": lambda x: f"{x:.{digits}e}"}
        else:
            options["suppress_small"] = True
