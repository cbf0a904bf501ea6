"""The README's tour runs as written (with the GPU line on the CPU)."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_tour_runs():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    code = code.replace('device="cuda"', 'device="cpu"')
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    search, metric, X, Y = (namespace[k] for k in ("search", "metric", "X", "Y"))
    assert search.best_params_["alpha"] in (0, 0.25, 0.5, 0.75, 1)
    assert metric.score(X, Y) == -metric.distance(X, Y)


def test_readme_gives_the_two_make_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci
