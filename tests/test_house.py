"""The house, read from its imports: no circles in workshop/, no module far past 400 lines, and the
generic code never names a stage kind (a kind's rules live in its own folder, workshop/stages/<kind>/)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workshop"
MAX_LINES = 420  # "roughly under 400": a module past it usually holds two ideas


def modules() -> dict[str, Path]:
    """Return every module of the package by its dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Return the package's modules that a module imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name}


def test_no_import_circles_in_the_package():
    known = modules()
    graph = {name: imports_of(name, path, set(known)) for name, path in known.items()}
    # A package's __init__ that only lists its plugins is the registry; its arrows to them are the plugin
    # loading (import_module by name, not drawn here), so any circle left is a real one.
    state: dict[str, str] = {}
    circles = []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)


def test_no_module_is_far_past_400_lines():
    long = {str(path.relative_to(ROOT)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_generic_code_never_names_a_stage_kind():
    """Every rule about a kind is the kind's: code outside workshop/stages/ asks the kind object.

    Python outside the kinds' folders names no kind key at all; templates outside them compare
    no stage's kind. demo.py is left out: it is the demo's content (concepts, drafts), not a rule.
    """
    from workshop.stages import KINDS
    keys = "|".join(map(re.escape, KINDS))
    in_python = re.compile(rf"""["']({keys})["']""")
    in_templates = re.compile(r"""\.kind\s*(?:[!=]=|(?:not\s+)?in)\s*[("'\[]""")
    found = []
    for pattern, paths in ((in_python, [p for p in PACKAGE.rglob("*.py")
                                        if "stages" not in p.parts and p.name != "demo.py"]),
                           (in_templates, list((ROOT / "templates").rglob("*.html")))):
        found += [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in paths
                  for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                  if pattern.search(line)]
    assert found == []
