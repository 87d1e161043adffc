import csv
import json

import numpy as np
import pytest
import torch
from conftest import SAMPLES, run, write_ucr
from PIL import Image

from petclf.errors import DataError
from petclf.series import tsimage
from petclf.series.fields import Imaging
from petclf.series.gaf import colormap_lut, gaf, to_rgb
from petclf.series.readers import SeriesSet, read_series
from petclf.series.tsimage import folder_name, write_tsimages

TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
TEST = SAMPLES / "GunPoint" / "GunPoint_TEST.tsv"


def read_manifest(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_writes_class_folders_manifest_and_preview(tmp_path):
    result = run("tsimage", TRAIN, tmp_path / "out", "--size", "32", "--quiet")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["1", "2", "manifest.csv", "preview.png"]
    assert len(list(out.glob("*/*.png"))) == 50
    manifest = read_manifest(out / "manifest.csv")
    assert manifest[0] == {"source_row": "0", "file": "2/0000.png", "label": "2", "split": ""}
    assert all((out / row["file"]).is_file() for row in manifest)
    assert Image.open(out / "preview.png").size[0] > 300
    assert f"Wrote 50 GADF images in 2 classes to {out}" in result.stdout


def test_png_pixels_are_the_coloured_field(tmp_path):
    run("tsimage", TRAIN, tmp_path / "out", "--size", "48", "--method", "gasf", "--quiet")
    series = read_series(TRAIN)
    expected = to_rgb(gaf(torch.from_numpy(series.X[7:8]), 48, "gasf"), colormap_lut("viridis"))[0]
    written = np.asarray(Image.open(tmp_path / "out" / series.labels[7] / "0007.png"))
    assert written.shape == (48, 48, 3)
    assert np.array_equal(written, expected.numpy())


def test_train_and_test_files_become_one_train_valid_dataset(tmp_path):
    out = tmp_path / "gunpoint"
    assert run("tsimage", TRAIN, out, "--split", "train", "--size", "16", "-q").exit_code == 0
    assert run("tsimage", TEST, out, "--split", "valid", "--size", "16", "-q").exit_code == 0
    assert len(list((out / "train").glob("*/*.png"))) == 50
    assert len(list((out / "valid").glob("*/*.png"))) == 150
    assert {row["split"] for row in read_manifest(out / "valid" / "manifest.csv")} == {"valid"}
    # the previews sit beside the split folders: inside, fastai would read them as a class "train"
    assert sorted(p.name for p in out.iterdir()) == ["preview-train.png", "preview-valid.png", "train", "valid"]
    assert not list(out.glob("*/preview*"))


def test_the_preview_shows_the_colour_scale(tmp_path):
    assert run("tsimage", TRAIN, tmp_path / "out", "--size", "16", "--colormap", "magma", "-q").exit_code == 0
    sheet = np.asarray(Image.open(tmp_path / "out" / "preview.png").convert("RGB"))
    scale = colormap_lut("magma").numpy()
    assert any((row[x:x + 256] == scale).all() for row in sheet for x in range(sheet.shape[1] - 255)
               if (row[x] == scale[0]).all())


def test_unlabelled_series_are_written_flat(tmp_path, gunpoint):
    np.save(tmp_path / "x.npy", gunpoint[0][:5])
    assert run("tsimage", tmp_path / "x.npy", tmp_path / "out", "--size", "16", "-q").exit_code == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["0000.png", "0001.png", "0002.png", "0003.png", "0004.png", "manifest.csv", "preview.png"]


def test_npy_format_keeps_the_float_field(tmp_path, basic_motions):
    X, _, y, _ = basic_motions
    np.savez(tmp_path / "bm.npz", X=X[:4], y=y[:4])
    result = run("tsimage", tmp_path / "bm.npz", tmp_path / "out", "--format", "npy", "--size", "20", "-q")
    assert result.exit_code == 0, result.stderr
    field = np.load(tmp_path / "out" / "Standing" / "0002.npy")
    assert field.shape == (6, 20, 20) and field.dtype == np.float32
    assert np.array_equal(field, gaf(torch.from_numpy(X[2].astype(np.float32)), 20).numpy())


def test_multivariate_png_tiles_channels(tmp_path, basic_motions):
    X, _, y, _ = basic_motions
    np.savez(tmp_path / "bm.npz", X=X, y=y)
    assert run("tsimage", tmp_path / "bm.npz", tmp_path / "out", "--size", "32", "-q").exit_code == 0
    image = Image.open(next((tmp_path / "out" / "Running").glob("*.png")))
    assert image.size == (3 * 32, 2 * 32)  # 6 channels: 2 rows of 3 tiles


def test_gray_colormap_writes_grey_pixels(tmp_path):
    run("tsimage", TRAIN, tmp_path / "out", "--size", "16", "--colormap", "gray", "-q")
    pixels = np.asarray(Image.open(tmp_path / "out" / "1" / "0002.png"))
    assert np.array_equal(pixels[..., 0], pixels[..., 2])


def test_json_summary_is_alone_on_stdout(tmp_path):
    result = run("tsimage", TRAIN, tmp_path / "out", "--size", "16", "--json")
    summary = json.loads(result.stdout)
    assert summary["images"] == 50 and summary["classes"] == {"1": 24, "2": 26}
    assert summary["folder"] == str(tmp_path / "out") and summary["channels"] == 1


def test_existing_output_is_refused_then_replaced_with_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = run("tsimage", TRAIN, out, "--size", "16", "-q")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == f"error: {out}: folder exists and is not empty (use --overwrite to replace it)"
    assert (out / "keep.txt").read_text() == "mine"
    assert run("tsimage", TRAIN, out, "--size", "16", "-q", "--overwrite").exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "manifest.csv").exists()


def test_a_failure_half_way_leaves_no_output(tmp_path, monkeypatch):
    saved = []

    def failing_save(image, path):
        if len(saved) == 20:
            raise OSError(28, "No space left on device")
        saved.append(path)

    monkeypatch.setattr(tsimage, "_save", failing_save)
    result = run("tsimage", TRAIN, tmp_path / "out", "--size", "16", "-q")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'out'}: could not be written (No space left on device)"
    assert list(tmp_path.iterdir()) == [], "neither the output nor its temporary folder may remain"


def test_constant_series_become_flat_mid_grey_images(tmp_path):
    write_ucr(tmp_path / "flat.tsv", np.ones((2, 30)), ["a", "b"])
    assert run("tsimage", tmp_path / "flat.tsv", tmp_path / "out", "--size", "8", "--colormap", "gray",
               "-q").exit_code == 0
    assert np.unique(np.asarray(Image.open(tmp_path / "out" / "a" / "0000.png"))).tolist() == [128]


@pytest.mark.parametrize("label, name", [("a/b", "a_b"), ("..", "_.."), ("", "_"), ("x:y", "x_y"), ("ok", "ok")])
def test_labels_become_safe_folder_names(label, name):
    assert folder_name(label) == name


def test_labels_that_would_share_a_folder_are_an_error(tmp_path):
    series = SeriesSet(np.zeros((2, 1, 4), np.float32), ["a/b", "a_b"], tmp_path / "s.tsv")
    with pytest.raises(DataError, match="would share a folder name"):
        write_tsimages(series, tmp_path / "out", Imaging(size=4))
