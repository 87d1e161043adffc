"""`petclf predict image` against what a fastai user would run instead.

    make bench          # or: .venv/bin/python bench/bench_predict.py

1. One image in a cold process: `petclf predict image MODEL IMG` vs a script doing fastai's
   `load_learner(export.pkl).predict(IMG)`; the same network and weights (a petclf model file,
   and the same network exported with fastai's `Learner.export` for the comparison only).
   Wall time and peak RSS of the child process. Then the same with the model file exported to
   ONNX by `petclf export` (onnxruntime, no torch import) against the same fastai reference.
2. 1,000 images in a warm process: `petclf.inference.predict_images` (decoding included) vs a
   plain batched torch forward pass of the same network and weights, loaded as torch loads
   them (default memory format), over the same images already decoded in memory; the two
   alternate, five times each. petclf runs its model channels-last; that model alone on the
   decoded pixels is timed too, so the table shows how much is layout and how much decoding.

Model: tf_efficientnet_lite0 with its packaged ImageNet weights and a fresh 10-class head at
64 px (weights do not change the timing). Images: scikit-learn's real 8x8 digits as PNGs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Row, report, timed, timed_pair  # noqa: E402

SIZE = 64
REPEATS = 5


def write_digits(folder: Path, n: int) -> list[Path]:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    paths = []
    for i, (image, label) in enumerate(zip(digits.images[:n], digits.target[:n], strict=True)):
        path = folder / str(label) / f"{i:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.round(image * 255 / 16).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def make_models(scratch: Path, data: Path) -> tuple[Path, Path]:
    """A petclf model file and the same network exported by fastai."""
    import warnings

    warnings.filterwarnings("ignore")
    from fastai.vision.all import ImageDataLoaders, Learner, Normalize, Resize, tensor

    from petclf.model import build as network
    from petclf.model import weights
    from petclf.model.backbones import find_arch
    from petclf.model.file import ModelMeta, save_model

    arch = find_arch("tf_efficientnet_lite0")
    model, spec = network.build(arch, 10, weights.pretrained_backbone(arch)[0])
    mean, std = network.normalization(arch)
    petclf_model = scratch / "model.safetensors"
    save_model(petclf_model, model.state_dict(),
               ModelMeta(net=spec, classes=[str(d) for d in range(10)], image_size=SIZE, mean=list(mean), std=list(std)))
    dls = ImageDataLoaders.from_folder(data, valid_pct=0.2, item_tfms=Resize(SIZE), num_workers=0,
                                       batch_tfms=Normalize.from_stats(tensor(mean), tensor(std)))
    learn = Learner(dls, model)
    learn.export(scratch / "export.pkl")
    return petclf_model, scratch / "export.pkl"


def cold(command: list[str], peaks: list[float]) -> None:
    """Run a fresh process; record its peak RSS in GB. GNU time reports it: the command is forked
    from that small process, whereas this one's own children inherit its (large) peak."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peaks.append(int(report.read().split()[-1]) / 1e6)  # %M is in KB


def cold_row(task: str, petclf_model: Path, exported: Path, image: Path) -> Row:
    petclf_bin = str(Path(sys.executable).parent / "petclf")
    script = ("import warnings; warnings.filterwarnings('ignore')\n"
              "from fastai.vision.all import load_learner\n"
              f"print(load_learner({str(exported)!r}).predict({str(image)!r})[0])")
    our_peaks, their_peaks = [], []
    ours, theirs = timed_pair(
        lambda: cold([petclf_bin, "predict", "image", str(petclf_model), str(image), "-q"], our_peaks),
        lambda: cold([sys.executable, "-c", script], their_peaks), repeats=REPEATS)
    our_peak, their_peak = max(our_peaks), max(their_peaks)
    ratio = ours.median / theirs.median
    return Row(task, ours, "fastai load_learner + predict", theirs, ratio, "time",
               "≤ 0.5×", ratio <= 0.5, f"peak memory {our_peak:.2f} vs {their_peak:.2f} GB ({our_peak / their_peak:.2f}×)")


def warm_row(petclf_model: Path, images: list[Path]) -> Row:
    import numpy as np
    import torch

    from petclf.inference import load_classifier, predict_images, prepare
    from petclf.model.build import rebuild
    from petclf.model.file import read_model

    classifier = load_classifier(petclf_model, "cpu")
    state, meta = read_model(petclf_model)
    plain = rebuild(meta.net).eval()  # as a torch user has it: torch's default memory format
    plain.load_state_dict(state)
    pixels = np.stack([prepare(p, SIZE) for p in images])
    mean, std = torch.tensor(meta.mean).view(1, 3, 1, 1), torch.tensor(meta.std).view(1, 3, 1, 1)
    batch = ((torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255 - mean) / std).contiguous()

    def plain_forward():
        with torch.inference_mode():
            for start in range(0, len(batch), 64):
                plain(batch[start:start + 64]).softmax(1)

    def model_alone():  # petclf's network on the decoded pixels: its time without decoding
        for start in range(0, len(pixels), 64):
            classifier.probabilities(pixels[start:start + 64])

    ours, theirs = timed_pair(lambda: predict_images(classifier, images, bs=64), plain_forward, repeats=REPEATS)
    alone = timed(model_alone, repeats=REPEATS)
    n, ratio = len(images), theirs.median / ours.median
    return Row(f"predict {n} images, warm", ours, "plain batched torch forward", theirs, ratio, "throughput",
               "≥ 0.9×", ratio >= 0.9,
               f"{n / ours.median:,.0f} vs {n / theirs.median:,.0f} images/s; petclf's time includes decoding; "
               f"its channels-last network alone, on decoded pixels: {n / alone.median:,.0f} images/s")


def rows() -> list[Row]:
    from petclf.model.onnx import export_onnx

    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # as the petclf command sets it
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        images = write_digits(scratch / "digits", 1000)
        petclf_model, exported = make_models(scratch, scratch / "digits")
        onnx_model = export_onnx(petclf_model, scratch / "model.onnx")
        return [cold_row("predict 1 image, cold process", petclf_model, exported, images[3]),
                cold_row("the same, model exported to ONNX", onnx_model, exported, images[3]),
                warm_row(petclf_model, images)]


if __name__ == "__main__":
    report("predict", rows())
