"""Device backends: one module per backend, each a class implementing minigrad.backend.Backend.

Also PyTorch's flags of its own backends that training scripts set (``cudnn.benchmark``,
``cudnn.deterministic``) or ask about (``mps.is_available()``): minigrad uses neither
cuDNN nor Metal, so setting them changes nothing.
"""

from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
