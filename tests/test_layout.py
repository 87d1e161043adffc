"""The house plan, checked: imports flow one way, down the layers below, so that each package
can be read (and used as a library) knowing only what lies under it. Every import counts, also
those inside functions (petclf imports its heavy modules lazily)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "petclf"
# Lowest first. A module imports from its own group or from lower layers; groups that share a
# layer stand side by side and do not import each other.
LAYERS = [
    {"base": {"errors", "console", "atomic", "device", "plots", "inputs", "splits", "metrics", "datacheck", "calibration", "threads"}},
    {"images": {"images"}, "series": {"series"}},
    {"model": {"model"}},
    {"inference": {"inference"}},
    {"training": {"training"}, "evaluation": {"evaluation"}},
    {"tuning": {"tuning"}},
    {"api": {"api"}},
    {"cli": {"cli", "__main__", "__init__"}},
]
GROUP = {top: (rank, name) for rank, groups in enumerate(LAYERS) for name, tops in groups.items() for top in tops}
MODULES = sorted(PACKAGE.rglob("*.py"))


def top_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported(path: Path) -> set[str]:
    """The petclf sub-packages or modules ``path`` imports, by their first name under petclf."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "petclf":
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("petclf.")}
    return found


def test_every_module_has_a_place_in_the_layers():
    assert {top_of(path) for path in MODULES} <= set(GROUP)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_down_the_layers(path):
    rank, group = GROUP[top_of(path)]
    for target in imported(path) - {"__version__"}:
        their_rank, their_group = GROUP[target]
        assert their_rank < rank or their_group == group, (
            f"{path.relative_to(PACKAGE)} imports petclf.{target} ({their_group}, layer {their_rank}) "
            f"from {group} (layer {rank})")


@pytest.mark.parametrize("path", [p for p in MODULES if top_of(p) not in ("cli", "__main__")],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_knows_typer(path):
    assert not {"typer", "click"} & {name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
                                     for name in _names(node)}


def _names(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def test_no_module_outgrows_a_read():
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 300}
    assert not long, f"modules over 300 lines: {long}"


def test_ruff_finds_no_unused_or_undefined_names_and_imports_are_sorted():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(PACKAGE), str(PACKAGE.parent / "tests"),
                           str(PACKAGE.parent / "bench")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
