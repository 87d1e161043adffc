"""Property-based tests (hypothesis): the GAF for any finite series, the series readers for any
table of numbers and any bytes, and the model metadata parser for any JSON."""

import json
import string
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from petclf.errors import DataError, PetclfError
from petclf.model.file import ModelMeta, read_model
from petclf.series.gaf import gaf
from petclf.series.readers import read_series

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
series = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(2, 40)), elements=finite)


@SETTINGS
@given(x=series, size=st.integers(2, 48), method=st.sampled_from(["gadf", "gasf"]))
def test_the_field_of_any_finite_series_is_finite_and_within_one(x, size, method):
    field = gaf(torch.from_numpy(x), size, method)
    assert field.shape == (*x.shape[:-1], size, size)
    assert torch.isfinite(field).all() and field.abs().max() <= 1


@SETTINGS
@given(x=series, size=st.integers(2, 48))
def test_gadf_is_antisymmetric_and_gasf_symmetric(x, size):
    gadf, gasf = gaf(torch.from_numpy(x), size, "gadf"), gaf(torch.from_numpy(x), size, "gasf")
    assert torch.allclose(gadf, -gadf.transpose(-1, -2), atol=1e-6)
    assert torch.allclose(gasf, gasf.transpose(-1, -2), atol=1e-6)
    assert gadf.diagonal(dim1=-2, dim2=-1).abs().max() <= 1e-6


float32s = st.floats(allow_nan=False, allow_infinity=False, width=32)
def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Numeric labels are normalised on purpose (UCR's 1.0000000e+00 is class 1), so text labels only.
labels = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8).filter(lambda s: not is_number(s))


@st.composite
def labelled_tables(draw):
    n, length = draw(st.integers(1, 6)), draw(st.integers(2, 12))
    X = draw(arrays(np.float32, (n, length), elements=float32s))
    return X, draw(st.lists(labels, min_size=n, max_size=n))


@SETTINGS
@given(table=labelled_tables(), suffix=st.sampled_from([".tsv", ".csv", ".txt", ".npy", ".npz", ".ts"]))
def test_any_table_of_numbers_reads_back_as_written(tmp_path, table, suffix):
    X, y = table
    path = tmp_path / f"data{suffix}"
    write_table(path, X, y)
    read = read_series(path)
    assert np.array_equal(read.X[:, 0], X)
    assert read.labels == (None if suffix == ".npy" else y)


def write_table(path: Path, X: np.ndarray, y: list[str]) -> None:
    cells = [[repr(float(v)) for v in row] for row in X]
    if path.suffix == ".npy":
        np.save(path, X)
    elif path.suffix == ".npz":
        np.savez(path, X=X, y=np.array(y))
    elif path.suffix == ".ts":
        path.write_text("@problemName p\n@univariate true\n@classLabel true\n@data\n"
                        + "".join(",".join(row) + f":{label}\n" for row, label in zip(cells, y, strict=True)))
    else:
        sep = {".tsv": "\t", ".csv": ",", ".txt": " "}[path.suffix]
        path.write_text("".join(sep.join([label, *row]) + "\n" for row, label in zip(cells, y, strict=True)))


@SETTINGS
@given(content=st.binary(max_size=400) | st.text(string.printable, max_size=400).map(str.encode),
       suffix=st.sampled_from([".tsv", ".csv", ".txt", ".npy", ".npz", ".ts"]))
def test_any_bytes_are_read_or_refused_with_a_petclf_error(tmp_path, content, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(content)
    try:
        read = read_series(path)
    except PetclfError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
    else:
        assert np.isfinite(read.X).all() and read.X.shape[-1] >= 2


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


@pytest.fixture(scope="module")
def valid_meta(tmp_path_factory):
    _, meta = read_model(make_model(tmp_path_factory.mktemp("meta") / "m.safetensors", length=150))
    return json.loads(meta.to_json())


def parse(document) -> ModelMeta | None:
    try:
        return ModelMeta.from_json(json.dumps(document), Path("m.safetensors"))
    except DataError as error:
        assert str(error).startswith("m.safetensors: petclf metadata is malformed")
        return None


@SETTINGS
@given(document=json_values, keys=st.lists(st.sampled_from(["net", "classes", "image_size", "mean", "std", "input",
                                                             "series", "members", "calibration"]), unique=True),
       data=st.data())
def test_any_json_is_refused_as_metadata_with_a_data_error(document, keys, data):
    """Any JSON document, and (so that the checks past the format's are reached) any object of the
    current format with any of the real keys holding any JSON."""
    assert parse(document) is None
    shaped = {"format": "petclf-model/1", **{key: data.draw(json_values) for key in keys}}
    assert parse(shaped) is None


@SETTINGS
@given(data=st.data())
def test_metadata_with_any_field_changed_parses_or_is_refused(valid_meta, data):
    document = json.loads(json.dumps(valid_meta))
    section = data.draw(st.sampled_from([document, document["net"], document["series"]]))
    key = data.draw(st.sampled_from(sorted(section)))
    section[key] = data.draw(json_values)
    meta = parse(document)
    if meta is not None:
        assert parse(json.loads(meta.to_json())) == meta  # what parses writes back as it was read


def test_valid_metadata_round_trips(valid_meta):
    assert json.loads(parse(valid_meta).to_json()) == valid_meta
