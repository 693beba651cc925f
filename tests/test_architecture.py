"""The layering the README's "How it is built" draws: no module imports one on a higher floor
(cli -> genius/eval/serve -> strategies -> driver -> engine, with tasks and models beside the
engine), and on the top library floor only genius reaches sideways, into eval's run loop."""

import ast
from pathlib import Path

import foresight

PACKAGE = Path(foresight.__file__).parent

#: room -> floor; a room may import rooms on its floor or below (sideways only as SIDEWAYS allows).
FLOORS = {
    "foresight": 0, "errors": 0, "ranges": 0, "options": 0, "packaged": 0,
    "engine": 1, "tasks": 1, "models": 1,
    "driver": 2,
    "strategies": 3,
    "eval": 4, "genius": 4, "serve": 4, "servers": 4,
    "cli": 5,
}
SIDEWAYS = {("genius", "eval")}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    return ".".join(("foresight",) + path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")


def imports() -> list[tuple[str, str, str]]:
    """(importing module, its room, imported room) for every import of our own modules."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            found += [(module, room(module), room(name)) for name in names if name.split(".")[0] == "foresight"]
    return found


def test_every_room_has_a_floor():
    rooms = {room(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert rooms <= set(FLOORS), rooms - set(FLOORS)


def test_no_module_imports_a_higher_floor_or_sideways():
    wrong = [(module, target) for module, source, target in imports()
             if source != target and (FLOORS[target] > FLOORS[source]
                                      or (FLOORS[target] == FLOORS[source] > 1 and (source, target) not in SIDEWAYS))]
    assert not wrong, wrong
