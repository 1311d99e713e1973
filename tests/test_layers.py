"""The import rules of ARCHITECTURE.md, read from the code itself.

Arrows point inward: entry points (bot, web, cli) → use cases → engine and store. The
engine is pure; entry points import nothing of store/; notify/ and web/ import nothing of
bot/ and no telegram; notify/ runs no SQL of its own; no module cycle.
`KNOWN` lists today's violations: the test fails on a new one, and on a known one that
has gone (so the list only shrinks, to empty).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PURE_ALLOWED = {
    "__future__",
    "bisect",
    "collections",
    "msgspec",
    "datetime",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "itertools",
    "math",
    "operator",
    "typing",
    "zoneinfo",
    "abc",
    "re",
    "holidays",
    "dateutil",
    "decimal",
}

# The store modules the day index (its package) may import: rows and bulk writes, no repository.
DAYINDEX = "bookbot.store.dayindex"
DAYINDEX_READS = {"bookbot.store.bulk", "bookbot.store.tables"}

# Entry points: they parse, call use cases in services/, and render. The composition roots
# wiring.py and deps.py are not among them: deps.py hands every entry point its database
# (`open_database`, and `Database` for signatures), so they may import store/.
# notify/ is not one either: the scheduler's delivery reads outbox rows through
# store/outbox.py by design.
ENTRY_POINTS = (
    "bookbot.bot",
    "bookbot.web",
    "bookbot.cli",
    "bookbot.cli_arguments",
    "bookbot.cli_output",
    "bookbot.demo",
)

# Violations still allowed while the redesign (issue 11) moves the code; add none.
KNOWN: set[str] = set()  # none left: every rule holds


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count too)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]
    modules = {_module(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {
            i for i in _imports(path, name) if i.split(".")[0] != "bookbot" or i in modules
        }
    return graph


def _within(module: str, packages: tuple[str, ...]) -> bool:
    """Whether `module` is one of `packages` or inside one (bookbot.cli, not bookbot.clinic)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def _layer_violations(graph: dict[str, set[str]]) -> set[str]:
    found = set()
    for module, imported in graph.items():
        for target in imported:
            top = target.split(".")[0]
            # Entry points reach the store only through use cases (and deps.py's database).
            if _within(module, ENTRY_POINTS) and _within(target, ("bookbot.store",)):
                found.add(f"{module} -> {target}")
            if module.startswith("bookbot.engine"):
                if top == "bookbot" and not target.startswith("bookbot.engine"):
                    found.add(f"{module} -> {target}")
                elif top != "bookbot" and top not in PURE_ALLOWED:
                    found.add(f"{module} -> {top}")
            if module.startswith(("bookbot.notify", "bookbot.web")):
                if target.startswith(("bookbot.bot", "bookbot.services.chat")):
                    found.add(f"{module} -> {target}")
                if top == "telegram":
                    found.add(f"{module} -> telegram")
            # notify/ renders and delivers; what it reads it asks of a repository or a use case.
            if module.startswith("bookbot.notify"):
                if top == "sqlalchemy" or target == "bookbot.store.tables":
                    found.add(f"{module} -> {target}")
            # The day index reads through the readers it is handed, never a repository.
            if module.startswith(DAYINDEX) and target.startswith("bookbot.store"):
                if target not in DAYINDEX_READS and not target.startswith(DAYINDEX):
                    found.add(f"{module} -> {target}")
            if module.startswith("bookbot.store") and top == "bookbot":
                if not target.startswith(("bookbot.store", "bookbot.engine", "bookbot.errors")):
                    found.add(f"{module} -> {target}")
    return found


def _cycles(graph: dict[str, set[str]]) -> set[str]:
    """Pairs of modules that import each other, directly or through others."""
    internal = {m: {t for t in ts if t in graph and t != m} for m, ts in graph.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(internal[node])
        return False

    found = set()
    for module, targets in internal.items():
        for target in targets:
            # Packages import their own children; that is not a cycle worth naming.
            if target.startswith(module + ".") or module.startswith(target + "."):
                continue
            if module < target and reaches(target, module):
                found.add(f"cycle: {module} <-> {target}")
    return found


def test_import_rules_hold_except_the_known_violations() -> None:
    graph = _graph()
    found = _layer_violations(graph) | _cycles(graph)
    new = found - KNOWN
    gone = KNOWN - found
    assert not new, f"new import-rule violations (see ARCHITECTURE.md): {sorted(new)}"
    assert not gone, f"fixed, so remove from KNOWN in this test: {sorted(gone)}"


def test_an_entry_point_importing_the_store_is_found() -> None:
    graph = {
        "bookbot.bot.handlers.client": {"bookbot.services.chat", "bookbot.store.chats"},
        "bookbot.cli": {"bookbot.deps", "bookbot.store.db"},
        "bookbot.web.pages": {"bookbot.store"},
        "bookbot.clinic_file.reading": {"bookbot.store.db"},  # not an entry point
        "bookbot.deps": {"bookbot.store.db"},  # the composition root may
        "bookbot.store": set(),
        "bookbot.store.chats": set(),
        "bookbot.store.db": set(),
    }
    assert _layer_violations(graph) == {
        "bookbot.bot.handlers.client -> bookbot.store.chats",
        "bookbot.cli -> bookbot.store.db",
        "bookbot.web.pages -> bookbot.store",
    }


def test_the_engine_is_pure() -> None:
    graph = _graph()
    impure = {
        f"{m} -> {t}"
        for m, ts in graph.items()
        if m.startswith("bookbot.engine")
        for t in ts
        if t.split(".")[0] in {"sqlalchemy", "telegram", "httpx", "starlette"}
    }
    assert not impure
