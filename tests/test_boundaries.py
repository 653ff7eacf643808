"""Package boundaries: vis.core imports no method package; a method imports only vis.core and itself."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())


def vis_imports(src: Path) -> set[str]:
    found = set()
    for f in src.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found |= {n.split(".")[1] for n in names if n.startswith("vis.")}
    return found


def test_core_imports_no_method_package():
    assert vis_imports(ROOT / "core" / "src") <= {"core"}


def test_methods_import_only_core_and_themselves():
    for name in METHODS:
        module = name.replace("-", "_")
        assert vis_imports(ROOT / "packages" / name / "src") <= {"core", module}, name


def test_no_distribution_ships_a_vis_init():
    assert not list(ROOT.glob("core/src/vis/__init__.py"))
    assert not list(ROOT.glob("packages/*/src/vis/__init__.py"))


ISOLATION = """
import importlib, json, sys
found = {}
for method, modules in json.loads(sys.argv[1]).items():
    for name in [m for m in sys.modules if m.startswith("vis.") and m.split(".")[1] not in ("core",)]:
        del sys.modules[name]  # every other method unloaded: importing one of them again would show
    for module in modules:
        importlib.import_module(module)
    found[method] = sorted({m.split(".")[1] for m in sys.modules if m.startswith("vis.")})
found["heavy"] = sorted({m.split(".")[0] for m in sys.modules} & {"open_clip", "webdataset", "av", "pycocotools"})
print(json.dumps(found))
"""


def test_importing_one_method_loads_no_other_vis_package():
    """Every method's modules, one method after the other in one interpreter (torch and vis.core load once):
    before each method, every other method's modules are dropped from sys.modules, so an import of another
    method, direct or through a dependency, would load it again and be seen. No module imports an optional heavy
library (open_clip, webdataset, PyAV, pycocotools) at import time."""
    modules = {}
    for name in METHODS:
        module = name.replace("-", "_")
        src = ROOT / "packages" / name / "src" / "vis" / module
        modules[module] = sorted(f"vis.{module}.{f.stem}" for f in src.glob("*.py") if f.stem != "__init__")
    proc = subprocess.run([sys.executable, "-c", ISOLATION, json.dumps(modules)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found.pop("heavy") == []  # open_clip (vis-flip's tokenizer) loads only when a run asks for it
    assert found == {m: sorted({"core", m}) for m in modules}
