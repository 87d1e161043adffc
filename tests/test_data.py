import re

import pytest
from conftest import SAMPLES, run, write_images

from petclf.errors import DataError, UsageError
from petclf.images.data import LabelSource, find_images


def test_class_folders_with_a_seeded_split(tmp_path):
    write_images(tmp_path, [f"{c}/{i}.png" for c in ("cat", "dog") for i in range(10)])
    images = find_images(tmp_path, valid_pct=0.2, seed=1)
    assert images.classes == ["cat", "dog"] and len(images.valid) == 4 and len(images.train) == 16
    assert find_images(tmp_path, valid_pct=0.2, seed=1).valid == images.valid
    assert find_images(tmp_path, valid_pct=0.2, seed=2).valid != images.valid


def test_train_and_valid_folders_written_by_tsimage_are_the_split(tmp_path):
    for split, source in (("train", "GunPoint_TRAIN.tsv"), ("valid", "GunPoint_TEST.tsv")):
        assert run("tsimage", SAMPLES / "GunPoint" / source, tmp_path, "--split", split, "--size", "16",
                   "-q").exit_code == 0
    images = find_images(tmp_path)
    assert len(images.train) == 50 and len(images.valid) == 150 and images.classes == ["1", "2"]
    assert images.skipped == 0  # manifest.csv and preview.png sit beside the class folders, not in them


def test_label_regex_takes_the_first_group(tmp_path):
    write_images(tmp_path, ["great_pyrenees_1.jpg", "great_pyrenees_2.jpg", "Bombay_3.jpg", "Bombay_4.jpg", "Bombay.png"])
    (tmp_path / "notes_1.txt").write_text("not an image")
    images = find_images(tmp_path, LabelSource(label_re=r"^(.*)_\d+\.jpg$"), valid_pct=0.34)
    assert images.classes == ["Bombay", "great_pyrenees"] and len(images.files) == 4
    assert images.skipped == 2  # Bombay.png does not match, notes_1.txt is no image


def test_pets_rule_upper_case_first_letter_is_a_cat(tmp_path):
    write_images(tmp_path / "images", ["Abyssinian_1.jpg", "Bengal_2.jpg", "beagle_3.jpg", "pug_4.jpg"])
    (tmp_path / "images" / "Readme.txt").write_text("not an image")
    images = find_images(tmp_path / "images", LabelSource(pets=True), valid_pct=0.5)
    assert dict(zip((p.name for p in images.files), images.labels, strict=True)) == {
        "Abyssinian_1.jpg": "cat", "Bengal_2.jpg": "cat", "beagle_3.jpg": "dog", "pug_4.jpg": "dog"}


def test_csv_labels(tmp_path):
    write_images(tmp_path, ["x/1.png", "x/2.png", "y/3.png", "y/4.png"])
    (tmp_path / "labels.csv").write_text("file,label\nx/1.png,big\nx/2.png,small\ny/3.png,big\ny/4.png,small\n")
    images = find_images(tmp_path, LabelSource(csv=tmp_path / "labels.csv"), valid_pct=0.34)
    assert images.labels == ["big", "small", "big", "small"]


def test_non_images_are_skipped_and_unreadable_images_reported(tmp_path):
    write_images(tmp_path, [f"{c}/{i}.png" for c in "ab" for i in range(5)])
    (tmp_path / "a" / "notes.txt").write_text("hello")
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    images = find_images(tmp_path)
    assert images.skipped == 1 and images.unreadable == [tmp_path / "b" / "broken.png"]
    assert len(images.files) == 10


@pytest.mark.parametrize("setup, source, error, err_msg", [
    ([], LabelSource(), DataError, "no readable images found"),
    (["a/1.png", "a/2.png"], LabelSource(), DataError, "only one class (a)"),
    (["a_1.png", "b_2.png"], LabelSource(label_re=r"^zzz(.)"), DataError, "matches no image file name"),
    (["a_1.png"], LabelSource(label_re=r"^a"), UsageError, "needs a group"),
    (["a_1.png"], LabelSource(label_re=r"(["), UsageError, "is not a regular expression"),
    (["a.png"], LabelSource(csv="missing.csv"), UsageError, "no such CSV file"),
])
def test_bad_datasets(tmp_path, setup, source, error, err_msg):
    write_images(tmp_path / "data", setup)
    (tmp_path / "data").mkdir(exist_ok=True)
    if source.csv:
        source = LabelSource(csv=tmp_path / source.csv)
    with pytest.raises(error, match=re.escape(err_msg)):
        find_images(tmp_path / "data", source)


@pytest.mark.parametrize("rows, err_msg", [
    ("file,label\nx.png\n", "line 2: needs a file and a label"),
    ("file,label\nmissing.png,a\n", "line 2: {data}/missing.png does not exist"),
    ("file,label\nx.png,a\nx.png,b\n", "line 3: x.png is listed twice"),
])
def test_bad_csv_labels(tmp_path, rows, err_msg):
    write_images(tmp_path, ["x.png"])
    (tmp_path / "l.csv").write_text(rows)
    with pytest.raises(DataError, match=re.escape(err_msg.format(data=tmp_path))):
        find_images(tmp_path, LabelSource(csv=tmp_path / "l.csv"))


def test_missing_data_folder_is_a_usage_error(tmp_path):
    result = run("train", tmp_path / "nowhere")
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {tmp_path / 'nowhere'}: no such folder"


def test_a_test_folder_is_never_a_class(tmp_path):
    write_images(tmp_path, [f"{split}/{c}/{i}.png" for split in ("train", "test") for c in "ab" for i in range(5)])
    images = find_images(tmp_path, valid_pct=0.2)
    assert images.classes == ["a", "b"] and len(images.files) == 10 and len(images.valid) == 2
    assert all("test" not in path.parts for path in images.files)
    assert images.left_out == [tmp_path / "test"]


def test_a_test_folder_without_train_is_refused(tmp_path):
    write_images(tmp_path, [f"{split}/{c}/{i}.png" for split in ("valid", "test") for c in "ab" for i in range(2)])
    with pytest.raises(DataError, match=re.escape(f"{tmp_path}: has test/, valid/ but no train/ folder")):
        find_images(tmp_path)


def test_the_validation_split_is_stratified(tmp_path):
    write_images(tmp_path, [f"{c}/{i}.png" for c, n in (("a", 16), ("b", 4)) for i in range(n)])
    images = find_images(tmp_path, valid_pct=0.25, seed=3)
    assert sorted(images.labels[i] for i in images.valid) == ["a"] * 4 + ["b"]
