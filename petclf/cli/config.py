"""``--config FILE``: a command's options from a JSON or YAML file, as click's ``default_map``,
so that a flag given on the command line wins over the file (``petclf tune`` writes such a file)."""

from pathlib import Path

import typer

from petclf.errors import UsageError


def read_config(ctx: typer.Context, param: typer.CallbackParam, path: Path | None) -> Path | None:
    """An eager callback: the file's options become this command's defaults before the others are read."""
    if path is None:
        return None
    values = _load(path)
    known = {p.name for p in ctx.command.params} - {param.name}
    options = {str(key).replace("-", "_"): value for key, value in values.items()}
    unknown = sorted(key for key in options if key not in known)
    if unknown:
        raise UsageError(f"{path}: unknown option(s) {', '.join(unknown)} (use the names of petclf "
                         f"{ctx.info_name}'s options, e.g. lr or label-smoothing)")
    ctx.default_map = {**(ctx.default_map or {}), **options}
    return path


def _load(path: Path) -> dict:
    import json

    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            values = json.loads(text)
        else:
            import yaml

            values = yaml.safe_load(text)
    except Exception as error:  # json's ValueError, yaml's YAMLError
        raise UsageError(f"{path}: not a JSON or YAML file of options ({str(error).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise UsageError(f"{path}: not a JSON or YAML file of options (expected name: value pairs)")
    return values
