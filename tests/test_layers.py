"""The package's layers point one way: each module imports only from its own layer or below
(imports inside functions included), and no two modules import each other, directly or in a
longer circle. A newcomer can then read the package bottom-up."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "inference_wars"

#: Layer of each top-level module or subpackage, bottom (0) to top.
LAYERS = {
    "errors": 0,
    "units": 0,
    "catalog": 1,
    "engine": 2,
    "api": 3,
    "analyses": 4,  # the chapters' analyses
    "evidence": 4,  # the measured results and the fit
    "book": 5,  # presentation and entry points
    "cli": 5,
    "__main__": 5,
    "__init__": 5,
}


def _modules():
    """``{dotted name: path}`` for every module of the package."""
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG).with_suffix("").parts
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Package-internal modules ``name`` imports, as dotted names relative to the package."""
    pkg_parts = name.split(".")[:-1] if not name.endswith("__init__") else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - (node.level - 1)]
                mod = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("inference_wars"):
                mod = node.module.split(".")[1:]
            else:
                continue
            targets = [mod + [a.name] for a in node.names] if not node.module else [mod]
            found |= {".".join(t) for t in targets if t}
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".", 1)[1] for a in node.names if a.name.startswith("inference_wars.")
            }
    return found


def _layer(dotted: str) -> int:
    return LAYERS[dotted.split(".")[0]]


def _resolve(target: str, modules) -> str | None:
    """The module a dotted import names (a package's ``__init__``, or the module itself)."""
    for cand in (target, target + ".__init__", target.rsplit(".", 1)[0]):
        if cand in modules:
            return cand
    return None


def test_every_module_has_a_layer():
    missing = sorted({m.split(".")[0] for m in _modules()} - set(LAYERS))
    assert not missing, f"give these modules a layer in tests/test_layers.py: {missing}"


def test_no_module_imports_from_a_layer_above_it():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        for target in _imports(name, path):
            resolved = _resolve(target, modules)
            if resolved and _layer(resolved) > _layer(name):
                upward.append(
                    f"{name} (layer {_layer(name)}) imports {resolved} (layer {_layer(resolved)})"
                )
    assert not upward, "imports pointing up:\n" + "\n".join(sorted(upward))


def test_no_import_circle():
    modules = _modules()
    graph = {
        n: {r for t in _imports(n, p) if (r := _resolve(t, modules)) and r != n}
        for n, p in modules.items()
    }
    # a package's __init__ re-exports its modules: an edge into it stands for its members
    cycles = []
    state: dict[str, int] = {}

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, ()):
            if m.endswith("__init__") and n.startswith(m.removesuffix("__init__")):
                continue  # a module importing its own package's siblings
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m) :] + [m]))
            elif m not in state:
                visit(m, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    assert not cycles, "import circles:\n" + "\n".join(cycles)
