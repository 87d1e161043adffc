"""petclf check: counts, sizes, unreadable files, duplicates and leakage across the split, on real
photographs (scikit-image's) and real series (GunPoint)."""

import io
import json
import shutil

import numpy as np
import pytest
from conftest import SAMPLES, run, write_ucr
from PIL import Image

from petclf.datacheck import near_groups
from petclf.images.check import NEAR, check_images
from petclf.images.data import find_images

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "camera")


def photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)())


def reencoded(image: Image.Image, quality: int, scale: float) -> Image.Image:
    small = image.resize((int(image.width * scale), int(image.height * scale)))
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def phash_bits(image: Image.Image) -> np.ndarray:
    import imagehash

    return np.packbits(imagehash.phash(image.convert("L")).hash.flatten())


def test_copies_are_near_and_different_photographs_are_not():
    originals = [phash_bits(photo(name)) for name in PHOTOS]
    copies = [phash_bits(reencoded(photo(name), q, s)) for name in PHOTOS for q, s in ((90, 1), (60, 0.5), (40, 0.3))]
    groups = near_groups(np.stack(originals + copies), NEAR)
    assert sorted(sorted(g) for g in groups) == [[k, *range(5 + 3 * k, 8 + 3 * k)] for k in range(5)]


@pytest.fixture
def photos(tmp_path):
    """Class folders split train/valid: one photo twice (same bytes), one re-encoded smaller in
    valid (leakage), and one filed under both labels."""
    root = tmp_path / "photos"
    for split, label, name in [("train", "cat", "chelsea"), ("train", "other", "coffee"), ("train", "other", "rocket"),
                               ("train", "other", "astronaut"), ("valid", "cat", "camera")]:
        (root / split / label).mkdir(parents=True, exist_ok=True)
        photo(name).save(root / split / label / f"{name}.jpg", quality=90)
    (root / "valid" / "other").mkdir()
    reencoded(photo("coffee"), 60, 0.5).save(root / "valid" / "other" / "coffee-small.jpg")
    shutil.copy(root / "train" / "cat" / "chelsea.jpg", root / "train" / "cat" / "chelsea-again.jpg")
    shutil.copy(root / "train" / "other" / "rocket.jpg", root / "train" / "cat" / "rocket.jpg")
    (root / "train" / "cat" / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def test_a_photo_folder_check_names_every_problem(photos):
    report = check_images(find_images(photos), "photos")
    t, v = photos / "train", photos / "valid"
    assert report.classes == {"cat": {"train": 3, "valid": 1}, "other": {"train": 3, "valid": 1}}
    assert report.unreadable == [str(t / "cat" / "broken.jpg")]
    assert sorted(map(sorted, report.duplicates)) == [
        [str(t / "cat" / "chelsea-again.jpg"), str(t / "cat" / "chelsea.jpg")],
        [str(t / "cat" / "rocket.jpg"), str(t / "other" / "rocket.jpg")]]
    assert report.near_duplicates == [[str(t / "other" / "coffee.jpg"), str(v / "other" / "coffee-small.jpg")]]
    assert report.across_split == report.near_duplicates
    assert report.conflicting == [[f"{t / 'cat' / 'rocket.jpg'} (cat)", f"{t / 'other' / 'rocket.jpg'} (other)"]]
    assert report.shapes["modes"] == {"RGB": 7, "L": 1}
    problems = report.problems()
    assert problems[0].startswith("one item under two labels: ")
    assert problems[1].startswith("in training and validation both (the validation figure flatters): ")


def test_check_prints_json_writes_a_sheet_and_strict_fails(photos, tmp_path):
    result = run("check", photos, "--plot", tmp_path / "sheet.png", "--json", "--strict")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["kind"] == "images" and len(report["problems"]) == 5 and report["plot"] == str(tmp_path / "sheet.png")
    with Image.open(tmp_path / "sheet.png") as sheet:
        assert sheet.width > 300 and sheet.height > 2 * 96


def test_a_clean_folder_passes_strict(tmp_path):
    result = run("check", SAMPLES / "digits", "--plot", tmp_path / "sheet.png", "--strict")
    assert result.exit_code == 0, result.stderr
    assert "no problems found" in result.stdout and "(all)" in result.stdout


def test_a_series_file_check_finds_a_row_in_both_splits(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    path = write_ucr(tmp_path / "gp.tsv", np.concatenate([X, X[:1]]), [*y, y[0]])
    result = run("check", path, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["shapes"] == {"channels": 1, "length": 150, "with_missing_values": 0}
    assert report["duplicates"] == [[f"{path}:0", f"{path}:50"]]
    assert report["plot"] is None


def test_train_says_the_problems_before_it_starts(photos, tmp_path):
    result = run("train", photos, "--arch", "resnet18", "--no-pretrained", "--folds", "2",
                 "--out", tmp_path / "run")  # refused once loaded (folds with a valid/ folder): nothing trains
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("check: one item under two labels")


def test_imbalance_is_said_by_the_check_and_by_train_once(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    keep = [i for i, label in enumerate(y) if label == 1] + [i for i, label in enumerate(y) if label == 2][:5]
    path = write_ucr(tmp_path / "gp.tsv", X[keep], [y[i] for i in keep])
    report = json.loads(run("check", path, "--json").stdout)
    assert any(p.startswith("imbalanced classes: '1' has ") for p in report["problems"])
    refused = run("train", path, "--folds", "2", "--valid", path, "--out", tmp_path / "run")  # refused once loaded
    said = [line for line in refused.stderr.splitlines() if "--balance" in line]
    assert refused.exit_code == 2 and len(said) == 1 and said[0].startswith("imbalanced classes")  # train's, once


def test_a_contact_sheet_takes_the_first_items_of_the_first_classes_in_natural_order():
    from petclf.plots import a_few_of_each

    labels = ["10", "2", "10", "2", "10", "3", "2"]
    assert a_few_of_each(labels, 2, 2) == {"2": [1, 3], "10": [0, 2]}  # "3" came third: left out
