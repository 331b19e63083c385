"""Print podbay's dependencies, its own and its tests', as pyproject.toml lists them (one per line,
pip's requirements format): what provision.sh installs and image/wheels.sh builds wheels of.
Usage: python3 vagrant/requirements.py [pyproject.toml]"""

import sys
import tomllib
from pathlib import Path

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pyproject.toml"
project = tomllib.loads(path.read_text())["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
