"""Writes reference/cli.md from the Typer app at every build (mkdocs-gen-files), so the CLI
reference is the --help text itself and cannot drift from it."""

import re

import mkdocs_gen_files
import typer
from typer.cli import get_docs_for_click

from petclf.cli import app

RICH_BOLD = re.compile(r"\[bold\](.*?)\[/\]")
CODE_SPAN = re.compile(r"(`[^`]*`)")


def markdown(text: str) -> str:
    """Typer's Markdown of rich-marked help: [bold]…[/] as **…**, the escaped [ of '\\[default' as [,
    and < > outside code spans and fences as entities (DATA/<label> is not an HTML tag)."""
    lines, fenced = [], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and not line.startswith("```"):
            line = RICH_BOLD.sub(r"**\1**", line).replace("\\[", "[")
            line = "".join(part if part.startswith("`") else part.replace("<", "&lt;").replace(">", "&gt;")
                           for part in CODE_SPAN.split(line))
        lines.append(line)
    return "\n".join(lines) + "\n"


command = typer.main.get_command(app)
docs = get_docs_for_click(obj=command, ctx=typer.Context(command, info_name="petclf"), name="petclf",
                          title="CLI reference")
with mkdocs_gen_files.open("reference/cli.md", "w") as page:
    page.write(markdown(docs))
