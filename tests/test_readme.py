"""The code in README.md runs as printed."""

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_first_example_trains():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["loss"].item() < 0.5
