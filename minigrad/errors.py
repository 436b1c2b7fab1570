"""The errors minigrad raises beyond Python's own."""


class OpError(RuntimeError, ValueError):
    """An op or a creation function refused its arguments (shapes that do not match, a bad
    permutation, a zero step, a negative size, ...).

    PyTorch raises a ``RuntimeError`` here and NumPy a ``ValueError``: this is both, so
    either ``except`` works.
    """


class RangeOverflowError(RuntimeError, OverflowError):
    """An ``arange`` whose values do not fit its dtype, raised before any allocation."""
