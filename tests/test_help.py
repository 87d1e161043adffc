"""--help as a reader meets it: at 80 columns every command's options sit in named panels, and no
panel squeezes its help text into a column narrower than MIN_HELP_WIDTH characters."""

import pytest
from typer.testing import CliRunner

from petclf.cli import app
from petclf.cli._panels import PANELS

MIN_HELP_WIDTH = 30
COMMANDS = [["check"], ["train"], ["lr-find"], ["predict", "image"], ["predict", "series"], ["evaluate"],
            ["explain"], ["export"], ["tsimage"]]


def rendered(command: list[str], columns: int = 80) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=columns, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def panels(text: str) -> dict[str, int]:
    """Each panel's title and the width of its help column: where the text of the lines that
    continue a row (no option name in front) starts, up to the panel's right edge."""
    widths, title, starts, inner = {}, None, [], 0
    for line in text.splitlines():
        if line.startswith("╭"):
            title, starts, inner = line.strip("╭─╮ "), [], len(line) - 2
        elif line.startswith("╰"):
            widths[title] = inner - min(starts, default=0)
            title = None
        elif title is not None and line[1:4].strip() == "" and line[1:-1].strip():
            starts.append(len(line[1:-1]) - len(line[1:-1].lstrip()))
    return widths


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_at_80_columns_keeps_a_readable_help_column(command):
    narrow = {title: width for title, width in panels(rendered(command)).items() if width < MIN_HELP_WIDTH}
    assert not narrow, f"petclf {' '.join(command)} --help: help columns under {MIN_HELP_WIDTH}: {narrow}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_sits_in_a_named_panel(command):
    titles = set(panels(rendered(command)))
    assert "Options" not in titles and titles - {"Arguments"} <= set(PANELS)


@pytest.mark.parametrize("text, widths", [
    ("╭─ Model ──╮\n│ --a  x y │\n│      z   │\n╰──────────╯", {"Model": 4}),
    ("╭─ Output ─╮\n│ --q  quiet │\n╰──────────╯", {"Output": 10}),  # no wrapped line: the whole panel
])
def test_the_help_column_is_measured_where_wrapped_text_starts(text, widths):
    assert panels(text) == widths


def test_metavars_are_clicks():
    text = rendered(["train"], 120)
    assert "--valid-pct  " in text and " FLOAT " in text and " PATH " in text and "<str>" not in text
