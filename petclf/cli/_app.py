"""The Typer application and its error reporting.

Every error ends here as one line on stderr and an exit code: 2 for a wrong command line
(option, path, refusal to overwrite), 1 for a failure, 130 for Ctrl-C. ``--debug`` (or
``PETCLF_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from typing import Annotated

import typer
from typer.core import TyperGroup

from petclf import __version__, console
from petclf.cli._panels import PanelledCommand
from petclf.errors import Interrupted, PetclfError
from petclf.training.distributed import launched_rank


def _switched_on(value: str) -> bool:
    """An environment switch as click reads a flag's: 1, true, yes, on (any case) are on; 0, false,
    no, off and empty are off (``PETCLF_DEBUG=0`` turned tracebacks on when any text did)."""
    return value.strip().lower() in ("1", "true", "t", "yes", "y", "on")


@dataclass
class _Settings:
    debug: bool = _switched_on(os.environ.get("PETCLF_DEBUG", ""))


class _ReportingGroup(TyperGroup):
    """Runs a command and turns whatever it raises into one line and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        settings = _Settings()
        try:
            with warnings.catch_warnings():
                _hide_library_notices()
                returned = super().main(args, prog_name, complete_var, standalone_mode=False, obj=settings, **extra)
            code = returned if isinstance(returned, int) else 0  # click returns typer.Exit's code here
        except typer.Exit as done:
            code = done.exit_code
        except typer.TyperException as error:  # Typer's (vendored click's) usage errors
            code = _report(error.format_message(), error.exit_code, settings.debug)
        except PetclfError as error:
            code = _report(str(error), error.exit_code, settings.debug)
        except typer.Abort:
            code = _report("interrupted", 130, settings.debug)
        except Exception as error:  # the last resort: a bug, or an error we did not foresee
            code = _report(f"unexpected {type(error).__name__}: {error} "
                           "(run `petclf --debug ...` to see where)", 1, settings.debug)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):
        """Ctrl-C becomes an error to report here: Typer would turn it into a silent exit 130."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None


def _hide_library_notices() -> None:
    """Deprecation notices raised while fastai imports (torch.jit.script, pandas options) are for
    fastai's developers, not petclf's users."""
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", module=r"fastai\.")


CLICK_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH"}


def _conventional_help() -> None:
    """Typer 0.2x's rich help puts a type beside every parameter (``<bool>`` beside a flag,
    ``<list[Path]>`` beside FILES, ``<str>`` beside text) and writes a required argument as
    ``{MODEL}``; the usage line and columns here follow click's and every other CLI's conventions
    instead: ``MODEL``, ``[DATA]``, ``FILES...``, ``--arch TEXT``, a flag with no type. Typer offers no setting for it, so its two
    methods are replaced here, in this one place; tests/test_cli.py fails when Typer changes them."""
    from typer.core import TyperArgument, TyperOption

    def usage_name(argument: TyperArgument) -> str:
        name = argument.display_name_raw
        return (name if argument.required else f"[{name}]") + ("..." if argument.nargs != 1 else "")

    def metavar(option: TyperOption, ctx) -> str | None:
        if option.is_flag or option.metavar:
            return option.metavar
        typed = option.display_type_rich_typer(ctx).strip("<>")  # Typer's <str>, <int>, <path>, <a|b>
        return CLICK_METAVARS.get(typed, f"[{typed}]")  # click's: TEXT, INTEGER, PATH, [a|b]

    TyperOption.display_type_rich_typer = TyperOption.display_type_rich
    TyperArgument._usage_display_name = usage_name
    TyperArgument.display_type_rich = lambda argument, ctx: None
    TyperOption.display_type_rich = metavar


_conventional_help()


def _report(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    rank = launched_rank()  # of a process torchrun started: which one says so
    console.error(f"rank {rank}: {message}" if rank else message)
    return code


class Commands(typer.Typer):
    """A Typer app whose commands group their options into help panels (_panels.py)."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or PanelledCommand, **kwargs)


app = Commands(
    cls=_ReportingGroup,
    help="Transfer learning with fastai from the command line.\n\n"
         "[bold]petclf check[/] looks at a data set before training (counts, sizes, duplicates across the split), "
         "[bold]petclf train[/] fine-tunes a pretrained backbone on labelled images or time series, "
         "[bold]petclf predict image[/] / [bold]predict series[/] classify with the result, "
         "[bold]petclf evaluate[/] measures it on labelled data, class by class, [bold]petclf explain[/] shows "
         "where it looked, "
         "[bold]petclf export[/] makes a model an ONNX file that predicts without torch, and "
         "[bold]petclf tsimage[/] turns time series into images. "
         "Every command has its own --help with examples.",
    invoke_without_command=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        console.result(f"petclf {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (also PETCLF_DEBUG=1).")] = False,
) -> None:
    ctx.obj.debug = ctx.obj.debug or debug
    if ctx.invoked_subcommand is None:
        console.result(ctx.get_help())
