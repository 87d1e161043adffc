"""Judging a trained model: per-class reports, top-k and top losses on labelled data it never
trained on (``report``), and Grad-CAM heat-maps of where it looked (``explain``)."""
