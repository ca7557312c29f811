"""Policy pack `triplane`, as the engine runs it: `pulumi preview --policy-pack policies/triplane`.

This folder is the whole pack: the policy modules beside this file import one another relatively,
so the folder is loaded as one package, under a name of its own, and needs nothing but the releases
of `requirements.txt`. The same modules are `triplane.policies` when Triplane is installed.
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "triplane_policy_pack"

# The engine runs this file with the folder first on the import path, where `kubernetes.py` or
# `common.py` would shadow installed modules of the same name; the modules are reached through the
# package below instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

spec = importlib.util.spec_from_file_location(PACKAGE, HERE / "__init__.py", submodule_search_locations=[str(HERE)])
assert spec is not None and spec.loader is not None
sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sys.modules[PACKAGE])

importlib.import_module(f"{PACKAGE}.adapter").serve()
