"""The two kinds of data a run trains on, images and series, each one object that answers what
training asks of it: the defaults, the DataLoaders, the model that reads it, what the model file
says about it and what metrics.json reports. Training code asks the kind (``kind_of``), never
``isinstance``; a third kind of input is a third class here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from petclf import inputs
from petclf.errors import UsageError
from petclf.images.data import LabelledImages
from petclf.series.data import LabelledSeries

if TYPE_CHECKING:
    from petclf.datacheck import Report
    from petclf.model.file import ModelMeta
    from petclf.training.recipe import TrainOptions

Labelled = LabelledImages | LabelledSeries


class Images:
    """Image folders: fastai's DataLoaders over the files, the network as it is."""

    name = "images"
    item = "file"  # what names one of them in a table

    def defaults(self, images: LabelledImages, member: str = "fine-tune") -> inputs.Defaults:
        return self._defaults(images)[0]

    def default_source(self, images: LabelledImages) -> str:
        return f"default for {self._defaults(images)[1]}"

    def _defaults(self, images: LabelledImages) -> tuple[inputs.Defaults, str]:
        """fast.ai's for photographs; those for series for the fields tsimage drew; those for
        thumbnails when the median training image is under ``inputs.THUMBNAIL_SIDE`` a side."""
        from petclf.images.data import median_side

        if images.series_images:
            return inputs.SERIES_IMAGES, "series images (written by petclf tsimage)"
        if median_side([images.files[i] for i in images.train]) < inputs.THUMBNAIL_SIDE:
            return inputs.THUMBNAILS, "thumbnails"
        return inputs.IMAGES, self.name

    def tiles(self, images: LabelledImages, options: TrainOptions) -> tuple[int, int]:
        """The grid of fields in one input image: one image is one tile."""
        return 1, 1

    def model_input(self, images: LabelledImages, options: TrainOptions, scaled_on: list[int] | None) -> dict:
        return {}  # ModelMeta's defaults describe images

    def rocket(self, images: LabelledImages, options: TrainOptions) -> None:
        return None  # MiniRocket reads series

    def model_and_batches(self, images: LabelledImages, net, meta: ModelMeta, options: TrainOptions, device):
        """The model to train, its DataLoaders, and the callbacks that feed it."""
        from petclf.images.data import dataloaders

        return net, dataloaders(images, options.size, options.bs, meta.mean, meta.std, options.augment,
                                options.workers, device, options.seed), []

    def facts(self, images: LabelledImages) -> dict:
        return {"skipped_files": images.skipped, "unreadable_images": [str(p) for p in images.unreadable]}

    def check(self, images: LabelledImages, source: str) -> Report:
        from petclf.images.check import check_images

        return check_images(images, source)


class Series:
    """Series files: batches of raw series, and the network behind a GafStem that draws their
    images on the training device."""

    name = "series"
    item = "series"

    def defaults(self, series: LabelledSeries, member: str = "fine-tune") -> inputs.Defaults:
        if member != "ridge":
            return inputs.SERIES
        one = series.shape[0] == 1
        return inputs.SERIES_RIDGE if one else replace(inputs.SERIES_RIDGE, method=inputs.SERIES_RIDGE_CHANNELS)

    def default_source(self, series: LabelledSeries) -> str:
        return f"default for {self.name}"

    def tiles(self, series: LabelledSeries, options: TrainOptions) -> tuple[int, int]:
        """The mosaic of one field per channel (of each view), once the options are known to draw."""
        from petclf.series import fields, gaf

        views = options.method.split(",")
        fields.check_method(options.method)
        gaf.check_scaling(options.scaling)
        rows, cols = gaf.mosaic_shape(series.X.shape[1])
        if "mat" in views and (rows, cols) != (1, 1):
            if len(views) > 1:
                raise UsageError(f"--method {options.method}: mat draws all {series.X.shape[1]} channels in one "
                                 f"image, the other fields a {rows} x {cols} mosaic of them; use mat alone for "
                                 "series of several channels")
            return 1, 1
        return rows, cols * len(views)

    def model_input(self, series: LabelledSeries, options: TrainOptions, scaled_on: list[int] | None) -> dict:
        """The ModelMeta fields that say what the model reads. Dataset scaling takes its bounds
        from the items ``scaled_on`` (default: the training items), one set for every member."""
        from petclf.model.file import SeriesInput
        from petclf.series.fields import Imaging

        channels, length = series.shape
        bounds = {}
        if options.scaling == "dataset":
            train = series.X[series.train if scaled_on is None else scaled_on]
            bounds = {"low": train.min(axis=(0, 2)).tolist(), "high": train.max(axis=(0, 2)).tolist()}
        imaging = Imaging(options.method, options.size, options.colormap, options.scaling, **bounds)
        return {"input": "series", "series": SeriesInput(channels, length, imaging, label_col=series.label_col,
                                                         lengths=series.lengths,
                                                         windows=options.member != "ridge")}

    def rocket(self, series: LabelledSeries, options: TrainOptions):
        """MiniRocket fitted to the training series, for a ridge member that reads its features."""
        if not options.rocket:
            return None
        from petclf.series.rocket import fit_rocket

        return fit_rocket(series.X[series.train], options.seed)

    def model_and_batches(self, series: LabelledSeries, net, meta: ModelMeta, options: TrainOptions, device):
        from petclf.model.stem import series_classifier
        from petclf.series.data import dataloaders
        from petclf.training.callbacks import SeriesAugment

        dls = dataloaders(series, options.bs, device, options.seed)
        return series_classifier(meta, net), dls, [SeriesAugment()] if options.augment else []

    def facts(self, series: LabelledSeries) -> dict:
        channels, length = series.shape
        return {"channels": channels, "length": length}

    def check(self, series: LabelledSeries, source: str) -> Report:
        from petclf.series.check import check_series

        return check_series(series, source)


IMAGES, SERIES = Images(), Series()


def kind_of(data: Labelled) -> Images | Series:
    return SERIES if isinstance(data, LabelledSeries) else IMAGES
