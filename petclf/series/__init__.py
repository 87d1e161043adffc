"""Time series: reading files of them (``readers``), labelled series and their DataLoaders
(``data``), the fields that turn a series into an image (``gaf``, ``fields``, with ``Imaging``
to describe how), and writing those images to disk (``tsimage``). Nothing here knows of models."""
