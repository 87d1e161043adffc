"""The data check for series files: channels and length, and series that appear more than once
(the same values, to the last digit; a file of series has no 'near' as photographs do)."""

from __future__ import annotations

import hashlib

import numpy as np

from petclf.datacheck import Report, class_counts, findings, groups_of
from petclf.series.data import LabelledSeries


def check_series(series: LabelledSeries, source: str) -> Report:
    channels, length = series.shape
    digests = [hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest() for x in series.X]
    missing = int(np.isnan(series.X).any(axis=(1, 2)).sum())
    shapes = {"channels": channels, "length": length, "with_missing_values": missing}
    found = findings(series.names, series.labels, series.valid, groups_of(digests), [])
    return Report(source, "series", class_counts(series.labels, series.valid), shapes, **found)
