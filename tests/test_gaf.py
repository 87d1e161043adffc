import re

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from petclf.errors import UsageError
from petclf.series import fields
from petclf.series.gaf import colormap_lut, gaf, mosaic_shape, resample, to_rgb

# pyts, the reference, compiles its numba kernels each time pyts.image is imported (about 25 s
# here): the tests that compare with it import it themselves and run in the slow tier.
pyts_reference = pytest.mark.slow


@pyts_reference
@pytest.mark.parametrize("dataset", ["gunpoint", "coffee"])
@pytest.mark.parametrize("method, pyts_method", [("gadf", "difference"), ("gasf", "summation")])
@pytest.mark.parametrize("size", [None, 128, 64, 37])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaf_matches_pyts_on_real_series(request, dataset, method, pyts_method, size, dtype):
    from pyts.image import GramianAngularField

    X_train, X_test, _, _ = request.getfixturevalue(dataset)
    X = np.concatenate([X_train, X_test]).astype(dtype)  # pyts gets the very same values
    reference = GramianAngularField(image_size=size or X.shape[1], method=pyts_method).transform(X)
    ours = gaf(torch.from_numpy(X), size, method)
    assert ours.dtype == torch.float32
    assert_allclose(ours.numpy(), reference, atol=1e-5)


def test_gaf_keeps_leading_axes_one_field_per_channel(basic_motions):
    X = torch.from_numpy(basic_motions[0].astype(np.float32))  # 40 series x 6 channels x 100
    fields = gaf(X, 32)
    assert fields.shape == (40, 6, 32, 32)
    assert torch.equal(fields[3, 4], gaf(X[3, 4], 32))


@pytest.mark.parametrize("method, value", [("gadf", 0.0), ("gasf", 0.0)])
def test_constant_series_gives_a_zero_field_not_nan(method, value):
    fields = gaf(torch.full((2, 50), 3.5), 16, method)
    assert torch.isfinite(fields).all()
    assert torch.equal(fields, torch.full_like(fields, value))


def test_gadf_is_antisymmetric_and_gasf_symmetric(gunpoint):
    X = torch.from_numpy(gunpoint[0][:8].astype(np.float32))
    gadf, gasf = gaf(X, 64, "gadf"), gaf(X, 64, "gasf")
    assert torch.allclose(gadf, -gadf.transpose(-1, -2), atol=1e-6)
    assert torch.allclose(gasf, gasf.transpose(-1, -2), atol=1e-6)
    assert gadf.abs().max() <= 1 and gasf.abs().max() <= 1


def test_resample_interpolates_up_and_keeps_both_ends():
    x = torch.tensor([[0.0, 1.0, 4.0]])
    assert_allclose(resample(x, 5).numpy(), [[0.0, 0.5, 1.0, 2.5, 4.0]])


def test_resample_down_is_window_means():
    x = torch.arange(10, dtype=torch.float32).reshape(1, 10)
    # pyts's windows for 10 -> 4 points: linspace(0, 10, 5) = [0, 2, 5, 7, 10]
    assert_allclose(resample(x, 4).numpy(), [[0.5, 3.0, 5.5, 8.0]])


def test_gaf_larger_than_the_series_interpolates():
    fields = gaf(torch.linspace(-1, 1, 10).unsqueeze(0), 40)
    assert fields.shape == (1, 40, 40)
    assert torch.isfinite(fields).all()


@pytest.mark.parametrize("params, err_msg", [
    (dict(method="gadX"), "--method must be one of gadf, gasf (got 'gadX')"),
    (dict(size=1), "--size must be at least 2 (got 1)"),
])
def test_gaf_rejects_bad_parameters(params, err_msg):
    with pytest.raises(UsageError, match=re.escape(err_msg)):
        gaf(torch.zeros(1, 10), **params)


def test_colormap_lut_gray_is_the_identity_ramp():
    lut = colormap_lut("gray")
    assert lut.shape == (256, 3) and lut.dtype == torch.uint8
    assert torch.equal(lut[:, 0], torch.arange(256, dtype=torch.uint8))


def test_unknown_colormap_suggests_close_names():
    with pytest.raises(UsageError, match=re.escape("unknown colormap 'virdis'; did you mean viridis")):
        colormap_lut("virdis")


@pytest.mark.parametrize("channels, shape", [(1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (4, (2, 2)),
                                             (6, (2, 3)), (9, (3, 3))])
def test_mosaic_is_near_square(channels, shape):
    assert mosaic_shape(channels) == shape


def test_to_rgb_tiles_channels_row_by_row_and_maps_extremes():
    lut = colormap_lut("gray")
    fields = torch.stack([torch.full((4, 4), v) for v in (-1.0, 1.0, 0.0)]).unsqueeze(0)  # 3 channels
    rgb = to_rgb(fields, lut)
    assert rgb.shape == (1, 8, 8, 3) and rgb.dtype == torch.uint8
    assert rgb[0, 0, 0, 0] == 0      # channel 0, top left: -1 -> black
    assert rgb[0, 0, 4, 0] == 255    # channel 1, top right: +1 -> white
    assert rgb[0, 4, 0, 0] == 128    # channel 2, bottom left: 0 -> mid grey
    assert rgb[0, 4, 4].sum() == 0   # the unused fourth tile stays black


def test_dataset_bounds_keep_amplitude_and_clip_beyond_them():
    t = torch.linspace(0, 6.28, 64)
    quiet, loud = 0.1 * torch.sin(t), 2.0 * torch.sin(t)
    X = torch.stack([quiet, loud])[:, None]  # 2 series, 1 channel
    per_series = gaf(X, 32)
    assert torch.allclose(per_series[0], per_series[1], atol=1e-5)  # amplitude is lost...
    bounds = (torch.tensor([[-1.0]]), torch.tensor([[1.0]]))
    fixed = gaf(X, 32, bounds=bounds)
    assert fixed[0].abs().max() < 0.25 < fixed[1].abs().max()  # ...unless the bounds are fixed
    clipped = torch.stack([quiet, loud.clamp(-1, 1)])[:, None]  # at full length: no PAA in between
    assert torch.allclose(gaf(X, bounds=bounds), gaf(clipped, bounds=bounds), atol=1e-6)


def test_a_channel_with_equal_bounds_gives_a_zero_field():
    bounds = (torch.tensor([[0.0], [3.0]]), torch.tensor([[1.0], [3.0]]))
    fields = gaf(torch.rand(2, 2, 20), 8, bounds=bounds)
    assert fields[:, 1].abs().max() == 0 and fields[:, 0].abs().max() > 0


@pyts_reference
@pytest.mark.parametrize("size", [150, 75, 64, 30])
def test_mtf_matches_pyts_on_gunpoint(gunpoint, size):
    from pyts.image import MarkovTransitionField

    X = gunpoint[0][:12]
    expected = MarkovTransitionField(image_size=size, n_bins=fields.MTF_BINS).fit_transform(X)
    got = fields.markov_transition_field(torch.from_numpy(X), size).numpy()
    assert_allclose(got, 2 * expected - 1, atol=1e-6)  # drawn as 2p - 1


@pyts_reference
def test_recurrence_plot_is_pyts_distance_of_the_scaled_series(gunpoint):
    from pyts.image import RecurrencePlot

    X = gunpoint[0][:5]
    distance = RecurrencePlot().fit_transform(X) / np.ptp(X, axis=1)[:, None, None]  # series scaled to [0, 1]
    got = fields.recurrence_plot(torch.from_numpy(X), X.shape[1]).numpy()
    assert_allclose(got, 2 * distance - 1, atol=1e-5)


def test_a_stack_of_three_fields_is_one_field_per_colour_channel(basic_motions):
    x = torch.from_numpy(basic_motions[0][:3]).float()
    image = fields.series_images(x, "gasf+gadf+mtf", 16, colormap_lut("gray"))
    gray = [fields.series_images(x, name, 16, colormap_lut("gray"))[..., 0] for name in ("gasf", "gadf", "mtf")]
    assert image.shape == (3, 32, 48, 3)  # 6 channels tiled 2 x 3
    assert all(torch.equal(image[..., c], plane) for c, plane in enumerate(gray))


def test_views_are_each_field_coloured_side_by_side(basic_motions):
    x, lut = torch.from_numpy(basic_motions[0][:3]).float(), colormap_lut("viridis")
    image = fields.series_images(x, "seg,rp,gadf", 16, lut)
    assert image.shape == (3, 32, 3 * 48, 3)  # each view 6 channels tiled 2 x 3
    assert torch.equal(image, torch.cat([fields.series_images(x, name, 16, lut) for name in ("seg", "rp", "gadf")], 2))
    assert fields.Imaging("seg,rp,gadf", 16).views == 3 and not fields.stacked("seg,rp,gadf")


def test_mat_draws_the_channels_as_rows_of_one_image_scaled_together():
    x = torch.tensor([[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]])
    image = fields.channel_matrix(x, 2)
    torch.testing.assert_close(image[0, 0], torch.tensor([[-6 / 7, -2 / 7], [2 / 7, 6 / 7]]))  # bilinear, at 0.5 and 2.5
    assert fields.series_images(x, "mat", 16, colormap_lut("gray")).shape == (1, 16, 16, 3)  # no mosaic


@pytest.mark.parametrize("method", ["gadx", "gasf+gadf", "gasf+gadf+mtf+rp", "GADF", "", "seg,", "seg,rp+gadf+mtf",
                                    "seg,gadx", "mat+gadf+rp"])
def test_methods_are_one_field_three_or_views(method):
    with pytest.raises(UsageError, match=re.escape(f"(got {method!r})")):
        fields.check_method(method)


@pytest.mark.parametrize("name", fields.FIELDS)
def test_every_field_is_finite_and_within_minus_one_and_one(gunpoint, name):
    out = fields.field(torch.from_numpy(gunpoint[0][:8]), name, 40)
    assert out.shape == (8, 40, 40) and torch.isfinite(out).all() and out.abs().max() <= 1


def test_seg_folds_the_scaled_series_into_rows_of_its_square_root():
    x = torch.arange(16.0)  # 4 rows of 4: at 4 px, the grid itself
    expected = (torch.arange(16.0) / 15 * 2 - 1).reshape(4, 4)
    torch.testing.assert_close(fields.segments(x[None], 4)[0], expected, atol=1e-6, rtol=0)
    short = fields.segments(torch.arange(14.0)[None], 4)[0]  # 14 values: the last row ends with the last, twice
    torch.testing.assert_close(short.flatten()[12:], torch.tensor([12.0, 13, 13, 13]) / 13 * 2 - 1, atol=1e-6, rtol=0)


def test_seg_keeps_a_long_series_sharper_than_a_field_of_its_window_means():
    """A 2,000-point series with a plateau and a spike one sample wide and twice as high: a field of
    128 points averages the spike into its window of 16, below the plateau; the 45 x 45 fold keeps
    it, as the series' highest value."""
    x = torch.zeros(1, 2000, dtype=torch.float64)
    x[0, 200:300], x[0, 1000] = 0.5, 1.0
    folded = fields.segments(x, 45)[0]
    assert folded.max() == pytest.approx(1.0, abs=1e-4)
    assert divmod(int(folded.argmax()), 45) == (22, 10)  # 1000 = 22 x 45 + 10: where the spike is
    cos, _ = fields.gaf.angles(x, 128)
    assert cos[0, 64] < -0.7 and cos.max() == pytest.approx(1.0, abs=1e-4)  # the plateau is the top now
