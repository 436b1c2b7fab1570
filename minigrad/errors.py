"""The errors minigrad raises beyond Python's own."""


class OpError(RuntimeError, ValueError):
    """An op refused its inputs (shapes that do not match, a bad permutation, ...).

    PyTorch raises a ``RuntimeError`` here and NumPy a ``ValueError``: this is both, so
    either ``except`` works.
    """
