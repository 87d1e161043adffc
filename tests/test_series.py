import re

import numpy as np
import pytest
from conftest import numbers, write_ucr
from numpy.testing import assert_allclose

from petclf.errors import DataError, UsageError
from petclf.series.readers import label_text, read_series


def test_reads_ucr_tsv_with_labels_first(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    series = read_series(write_ucr(tmp_path / "GunPoint_TRAIN.tsv", X, y))
    assert series.X.shape == (50, 1, 150) and series.X.dtype == np.float32
    assert_allclose(series.X[:, 0], X, rtol=1e-6)
    assert series.labels == [str(v) for v in y]
    assert series.classes == ["1", "2"]


@pytest.mark.parametrize("suffix, sep", [(".txt", "  "), (".csv", ","), (".tsv", "\t")])
def test_reads_any_delimiter(tmp_path, coffee, suffix, sep):
    X, _, y, _ = coffee
    path = tmp_path / f"coffee{suffix}"
    path.write_text("\n".join(sep.join([f"{label:.7e}", *numbers(row)]) for row, label in zip(X, y, strict=True)))
    series = read_series(path)
    assert series.X.shape == (28, 1, 286)
    assert series.classes == ["0", "1"]  # UCR's 0.0000000e+00 is label "0"


def test_csv_header_names_the_label_column(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    rows = ["t0,t1,t2,gesture"] + [f"{a},{b},{c},{'draw' if k == 1 else 'point'}"
                                   for (a, b, c), k in zip(X[:, :3], y, strict=True)]
    (tmp_path / "g.csv").write_text("\n".join(rows))
    series = read_series(tmp_path / "g.csv", label_col="gesture")
    assert series.X.shape == (50, 1, 3)
    assert series.classes == ["draw", "point"]


def test_text_labels_in_the_first_column_are_not_a_header(tmp_path):
    (tmp_path / "s.csv").write_text("cat,1,2,3\ndog,3,2,1\n")
    series = read_series(tmp_path / "s.csv")
    assert series.labels == ["cat", "dog"] and series.X.shape == (2, 1, 3)


def test_no_labels_reads_every_column_as_values(tmp_path):
    (tmp_path / "s.tsv").write_text("1\t2\t3\n4\t5\t6\n")
    series = read_series(tmp_path / "s.tsv", label_col=None)
    assert series.labels is None and series.X.shape == (2, 1, 3)


def test_reads_npy_2d_and_3d(tmp_path, basic_motions):
    X = basic_motions[0]
    np.save(tmp_path / "uni.npy", X[:, 0])
    np.save(tmp_path / "multi.npy", X)
    assert read_series(tmp_path / "uni.npy").X.shape == (40, 1, 100)
    multi = read_series(tmp_path / "multi.npy")
    assert multi.X.shape == (40, 6, 100) and multi.labels is None


def test_reads_npz_with_labels(tmp_path, basic_motions):
    X, _, y, _ = basic_motions
    np.savez(tmp_path / "bm.npz", X=X, y=y)
    series = read_series(tmp_path / "bm.npz")
    assert series.X.shape == (40, 6, 100)
    assert series.classes == ["Badminton", "Running", "Standing", "Walking"]


def write_ts(path, X, y, extra_header=""):
    header = f"@problemName test\n{extra_header}@univariate {str(X.shape[1] == 1).lower()}\n" \
             f"@equalLength true\n@classLabel true {' '.join(sorted(set(y)))}\n@data\n"
    body = "\n".join(":".join([*(",".join(numbers(ch)) for ch in s), label]) for s, label in zip(X, y, strict=True))
    path.write_text("# a comment\n" + header + body + "\n")
    return path


def test_reads_multivariate_ts(tmp_path, basic_motions):
    X, _, y, _ = basic_motions
    series = read_series(write_ts(tmp_path / "BasicMotions_TRAIN.ts", X, y))
    assert series.X.shape == (40, 6, 100)
    assert_allclose(series.X, X, rtol=1e-6)
    assert series.labels == list(y)


def test_reads_univariate_ts(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    series = read_series(write_ts(tmp_path / "GunPoint_TRAIN.ts", X[:, None], [str(v) for v in y]))
    assert series.X.shape == (50, 1, 150) and series.classes == ["1", "2"]


@pytest.mark.parametrize("cell, text", [("1.0000000e+00", "1"), ("2", "2"), (" cat ", "cat"),
                                        ("0.5", "0.5"), (3.0, "3")])
def test_label_text_drops_float_noise(cell, text):
    assert label_text(cell) == text


BAD_FILES = [
    # file name, content, error, message
    ("s.tsv", "", DataError, "s.tsv: the file is empty"),
    ("s.tsv", "\n\n  \n", DataError, "s.tsv: no series found (only blank lines)"),
    ("s.csv", "a,b,c\n", DataError, "s.csv: no series found (only a header row)"),
    ("s.tsv", "1\t0.5\t0.7\n2\t0.1\n", DataError, "s.tsv: series 1 has one value in a channel; at least 2"),
    ("s.tsv", "1\t0.5\t0.7\n2\t0.1\tabc\n", DataError, "s.tsv: line 2, column 3: 'abc' is not a number"),
    ("s.tsv", "1\t0.5\t0.7\n2\tNaN\tnan\n", DataError, "s.tsv: series 1 has no value in a channel"),
    ("s.tsv", "1\t0.5\tinf\n", DataError, "s.tsv: line 1 contains infinite values"),
    ("s.tsv", "1\t0.5\t0.7\nnan\t0.1\t0.2\n", DataError, "s.tsv: line 2 has no label"),
    ("s.tsv", "1\t0.5\n", DataError, "s.tsv: series have 1 value(s); at least 2 are needed"),
    ("s.docx", "1\t2\n", UsageError, "s.docx: unknown series format '.docx'; use one of .tsv"),
    ("series", "1\t2\n", UsageError, "series: unknown series format '(no extension)'"),
    ("s.ts", "@problemName x\n1,2:a\n", DataError, "s.ts: no @data section"),
    ("s.ts", "@timeStamps true\n@data\n(0,1):a\n", DataError, "s.ts: series with timestamps are not"),
    ("s.ts", "@classLabel true a\n@data\n1,2,3:4:a\n", DataError, "s.ts: series 0 has one value in a channel"),
    ("s.ts", "@classLabel true a\n@data\n1,2,3:a\n1,2:3,4:a\n", DataError, "s.ts: line 4 has 2 channel(s), the first"),
    ("s.ts", "@classLabel true a\n@data\n?,?,?:a\n", DataError, "s.ts: series 0 has no value in a channel"),
    ("s.ts", "@classLabel true a\n@data\n1,2:3,b:a\n", DataError, "s.ts: line 3, channel 2, value 2: 'b' is not"),
]


@pytest.mark.parametrize("name, content, error, err_msg", BAD_FILES)
def test_bad_files_are_refused_with_the_file_and_line(tmp_path, name, content, error, err_msg):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(error, match=re.escape(str(tmp_path / err_msg))):
        read_series(path)


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match=re.escape(f"{tmp_path / 'nope.tsv'}: no such file")):
        read_series(tmp_path / "nope.tsv")


def test_binary_file_named_tsv(tmp_path):
    (tmp_path / "s.tsv").write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DataError, match="not a text file"):
        read_series(tmp_path / "s.tsv")


def test_label_column_errors_name_the_columns(tmp_path):
    (tmp_path / "s.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UsageError, match=re.escape("--label-col 'kind' is not a column (columns: a, b, c)")):
        read_series(tmp_path / "s.csv", label_col="kind")
    with pytest.raises(UsageError, match=re.escape("--label-col 5 is out of range (the file has 3 columns)")):
        read_series(tmp_path / "s.csv", label_col=5)


def test_npy_with_python_objects_is_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds Python objects"):
        read_series(tmp_path / "o.npy")


@pytest.mark.parametrize("arrays, err_msg", [
    (dict(data=np.zeros((2, 5))), "no array named 'X' (found: data)"),
    (dict(X=np.zeros((2, 5)), y=np.zeros(3)), "y has 3 labels for 2 series"),
    (dict(X=np.zeros(5)), "X must be a real-valued array (n, L) or (n, C, L), got float64 (5,)"),
    (dict(X=np.array([[np.nan, np.nan]])), "series 0 has no value in a channel"),
])
def test_bad_npz(tmp_path, arrays, err_msg):
    np.savez(tmp_path / "s.npz", **arrays)
    with pytest.raises(DataError, match=re.escape(err_msg)):
        read_series(tmp_path / "s.npz")


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros((20, 50)))
    data = (tmp_path / "s.npy").read_bytes()
    (tmp_path / "s.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 's.npy'}: ")):
        read_series(tmp_path / "s.npy")
