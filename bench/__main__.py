"""`python -m bench`: list the benchmarks."""

import pkgutil
from pathlib import Path

names = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])]
print("benchmarks:", ", ".join(sorted(names)) or "none yet")
print("run one with: .venv/bin/python -m bench.<name>")
