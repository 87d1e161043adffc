"""``petclf export``."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import app
from petclf.cli.options import ModelPath


@app.command("export", epilog="[bold]Examples[/]\n\n"
                              "  petclf export runs/digits\n\n"
                              "  petclf predict image runs/digits/model.onnx samples/digits/3\n\n"
                              "  petclf export runs/gunpoint --out gunpoint.onnx\n\n"
                              "  petclf predict series gunpoint.onnx GunPoint_TEST.tsv")
def export(
    model: ModelPath,
    out: Annotated[Path | None, typer.Option(help="The ONNX file to write (default: the model file's name, "
                                                     "ending .onnx).", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing file.")] = False,
) -> None:
    """Export a model (images or series, one model or an ensemble) to one ONNX file, which predict runs without torch.

    [b]petclf predict image FILE.onnx[/] (or [b]predict series[/]) then runs it on onnxruntime, on the CPU, without importing torch: a cold start in a fraction of the time, to the same predictions. A series model's field images are drawn inside the ONNX graph, as its stem draws them in torch.
    """
    from petclf.model.onnx import export_onnx

    console.result(str(export_onnx(model, out, overwrite=overwrite)))
