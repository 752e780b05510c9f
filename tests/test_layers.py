"""The shape of the code: modules import only from their own layer or below (no import reaching upward, so no
cycles), gradio only in lora_demo.ui, and the web process never loads torch (the workers do)."""
import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lora_demo"

# lower layers first; a module may import from its own layer or any layer below
LAYERS = [
    {"config", "rules", "lru", "cost", "text", "claims", "claims.core", "claims.registry"},  # plain data and rules
    {"data", "model", "presets", "links", "real_models", "plots"},                 # tasks, the network, pictures
    {"fit", "evaluate", "gpu", "bases"},                                           # training and reading off
    {"methods", "backprop"},                                                       # adapting a base; its gradients
    {"engine", "export", "library_export", "report"},                              # a run and what it produces
    {"insights"},                                                                  # the panels' numbers
    {"claims.scenarios", "jobs", "cli", "__main__"},                               # work as a worker runs it
    {"workers", "scheduler"},                                                      # where and when work runs
    {"ui"},                                                                        # the page
]
SHORT_LIVED = {"jobs.payload": 0, "workers.base": 7}  # plain types every layer may use


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def layer_of(name: str) -> int:
    if name in SHORT_LIVED:
        return SHORT_LIVED[name]
    for candidate in (name, name.split(".")[0]):
        for i, layer in enumerate(LAYERS):
            if candidate in layer:
                return i
    raise AssertionError(f"lora_demo.{name} has no layer in tests/test_layers.py")


def imports_of(path: Path) -> set[str]:
    """Every lora_demo module this file imports, anywhere in it (also inside functions)."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            elif (node.module or "").startswith("lora_demo"):
                target = node.module[len("lora_demo."):] if node.module != "lora_demo" else ""
                names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            else:
                continue
            for name in names:  # "from .plots import encode" names a module; "from .config import X" a value
                found.add(name if (PACKAGE / name.replace(".", "/")).with_suffix(".py").exists()
                          or (PACKAGE / name.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            found |= {a.name[len("lora_demo."):] for a in node.names if a.name.startswith("lora_demo.")}
    return {f for f in found if f}


def test_no_module_imports_from_a_higher_layer():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == "__init__":
            continue
        mine = layer_of(name)
        for imported in imports_of(path):
            if layer_of(imported) > mine:
                problems.append(f"lora_demo.{name} (layer {mine}) imports lora_demo.{imported} "
                                f"(layer {layer_of(imported)})")
    assert problems == []


def test_gradio_is_imported_only_by_the_ui():
    for path in PACKAGE.rglob("*.py"):
        if module_name(path).startswith("ui"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m == "gradio" or m.startswith("gradio.") for m in names), path


def test_the_web_process_does_not_load_torch():
    code = ("import sys, lora_demo.ui, lora_demo.links, lora_demo.scheduler\n"
            "heavy = [m for m in ('torch', 'sklearn', 'plotly.graph_objects') if m in sys.modules]\n"
            "print(heavy)\nsys.exit(1 if heavy else 0)")
    p = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
