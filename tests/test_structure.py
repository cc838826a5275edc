"""The house's layout, as a newcomer relies on it: one name per area, and the kiosk base
below the boards with the home screen above them."""

import ast
from pathlib import Path

import pytest

from app import audit
from app.communities.routing import PREFIX

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

# The boards a resident opens from the home screen; each has a console module at /staff/<name>.
BOARDS = ("wall", "cases", "classes", "experts", "friends", "notices")
# Areas served at the site's root: the kiosk base (/language, /reset, /device/…) and the home screen.
ROOT_AREAS = ("kiosk", "home")
# Below the boards with the kiosk base: who may act from a phone (household codes), served
# under /c/<slug>/<name>/ with a console module at /staff/<name>.
BASE_AREAS = ("households",)


def test_every_area_has_one_name_for_package_blueprint_url_templates_and_tests(app):
    assert set(BOARDS) | set(ROOT_AREAS) | set(BASE_AREAS) | {"staff"} == set(app.blueprints)
    for name, blueprint in app.blueprints.items():
        assert blueprint.import_name == f"app.{name}", name
        assert (ROOT / "templates" / name).is_dir(), name
        assert (ROOT / "tests" / name).is_dir(), name
        prefix = "" if name in ROOT_AREAS else f"/{name}"
        assert (blueprint.url_prefix or "") == prefix, name
        # What residents see is a community's: boards and home are served under /c/<slug>/.
        served = prefix if name in ("kiosk", "staff") else PREFIX + prefix
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith(f"{name}.") and rule.endpoint != "kiosk.handoff_open":
                assert rule.rule.startswith(served + "/"), rule
    # A phone opens a kiosk's link in the kiosk's community.
    assert next(app.url_map.iter_rules("kiosk.handoff_open")).rule.startswith(PREFIX + "/")
    for board in BOARDS + BASE_AREAS:
        assert (APP / "staff" / f"{board}.py").is_file(), board
        assert board in audit.AREAS
        console = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(f"/staff/{board}")]
        assert console, board


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(module: str, path: Path, modules) -> set[str]:
    """Every app module this one imports, at its top or inside a function."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            submodules = {f"{stem}.{alias.name}" for alias in node.names}
            names.update(submodules & modules.keys())
            if not submodules <= modules.keys():  # a name defined in the package itself
                names.add(stem)
    return {name for name in names if name == "app" or name.startswith("app.")}


# Packages of the core, below every area.
CORE_PACKAGES = ("communities", "migrations")


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (APP / parts[1]).is_dir() and parts[1] not in CORE_PACKAGES else None


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    return {name: {imported for imported in _imports(name, path, modules) if imported in modules}
            for name, path in modules.items()}


def _reaches(graph, start: str, through) -> set[str]:
    """The modules that importing `start` loads, following only modules `through` accepts."""
    seen, todo = set(), [start]
    while todo:
        for imported in graph[todo.pop()]:
            if imported not in seen:
                seen.add(imported)
                if through(imported):
                    todo.append(imported)
    return seen


def test_the_kiosk_base_imports_no_board_and_no_board_imports_the_home_screen(graph):
    above_boards = set(BOARDS) | {"home", "staff"}
    base = ("kiosk", *BASE_AREAS)
    for module in graph:
        if _area(module) in base:
            # Through the core modules too: none of them may bring a board in on the kiosk's behalf.
            reached = _reaches(graph, module, through=lambda name: _area(name) in (None, *base))
            boards = sorted(name for name in reached if _area(name) in above_boards)
            assert not boards, f"{module} imports {boards}"
        if _area(module) in BOARDS:
            home = sorted(name for name in graph[module] if _area(name) == "home")
            assert not home, f"{module} imports {home}"


def test_the_core_below_the_kiosk_base_imports_no_area(graph):
    """The audit log, personal data, transitions, lengths and the htmx helpers sit below every
    area: the kiosk base records through audit, so audit must not reach back into it."""
    for module in ("app.audit", "app.people", "app.transitions", "app.lengths", "app.web", "app.boards",
                   "app.communities.scope", "app.communities.routing"):
        reached = _reaches(graph, module, through=lambda name: _area(name) is None)
        areas = sorted(name for name in reached if _area(name) is not None)
        assert not areas, f"{module} imports {areas}"


def test_the_import_graph_check_sees_imports_inside_functions(graph):
    # housekeeping reaches every board from inside its function, and home reaches housekeeping.
    assert "app.classes.services" in graph["app.housekeeping"]
    assert "app.housekeeping" in graph["app.home.routes"]


def test_every_htmx_event_is_named_after_its_area():
    for path in APP.glob("*/**/*.py"):
        parts = path.relative_to(APP).parts
        area = parts[0] if parts[0] != "staff" else path.stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "events":
                for keyword in node.keywords:
                    assert keyword.arg.startswith(f"{area}_"), f"{path.relative_to(ROOT)}: {keyword.arg}"


def test_templates_read_labels_and_rules_from_their_one_namespace(app):
    """Every `labels.<area>.<name>` and `rules.<area>.<name>` a template names exists, and no
    context processor hands templates a label of its own beside the namespace."""
    import re

    from flask import render_template_string

    namespaces = {name: app.jinja_env.globals[name] for name in ("labels", "rules")}
    used = set()
    for path in (ROOT / "templates").rglob("*.html"):
        for namespace, area, name in re.findall(r"\b(labels|rules)\.(\w+)\.(\w+)", path.read_text(encoding="utf-8")):
            used.add((namespace, area, name))
            assert hasattr(getattr(namespaces[namespace], area, None), name), \
                f"{path.relative_to(ROOT)} names {namespace}.{area}.{name}, which is not registered"
    assert {("labels", "wall", "kind"), ("rules", "classes", "phase")} <= used
    with app.test_request_context("/"):
        context_names = set()
        for processors in app.template_context_processors.values():
            for processor in processors:
                context_names |= set(processor())
        assert not [name for name in context_names if name.endswith(("_labels", "_label"))], context_names
        assert render_template_string("{{ labels.wall.kind['problem'] }}") in ("Problem", "反映问题")
