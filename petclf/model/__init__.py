"""The model: backbones by name (``backbones``) and where their pretrained weights come from
(``weights``), the network built around one (``build``, ``layers``; ``stem`` for series), the
model file with its metadata (``file``), loading it back (``load``) and exporting it (``onnx``).
Nothing here trains; nothing here unpickles."""
