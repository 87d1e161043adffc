"""The README and the documentation: every code block marked runnable (an HTML comment
``<!-- runnable -->`` on the line before its fence) runs as written, from a folder with the bundled
samples, and every command and option shows its help in panels a terminal of 80 columns can read."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MARKED = re.compile(r"<!-- runnable -->\n```(\w+)\n(.*?)```", re.S)


def runnable_blocks() -> list[tuple[str, str, str]]:
    """(page, language, code) of every block marked runnable."""
    return [(str(page.relative_to(ROOT)), lang, code) for page in PAGES for lang, code in MARKED.findall(page.read_text())]


def test_the_readme_and_the_docs_mark_blocks_to_run():
    pages = {page for page, _, _ in runnable_blocks()}
    assert "README.md" in pages and "docs/python-api.md" in pages


@pytest.mark.slow
@pytest.mark.parametrize("page, lang, code", runnable_blocks(), ids=lambda v: v if v.endswith(".md") else "")
def test_a_runnable_block_runs_as_written(tmp_path, monkeypatch, page, lang, code):
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    if lang == "python":
        exec(compile(code, page, "exec"), {})
        return
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in [line[2:] for line in code.splitlines() if line.startswith("$ ")]:
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{page}: {command}\n{done.stderr}"
