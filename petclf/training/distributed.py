"""Data-parallel training (``--devices N``): N processes train one model together, each on its
share of every epoch's training batches, with gradients averaged across them after each step
(torch's DistributedDataParallel over ``torch.distributed``: NCCL between GPUs, gloo between
CPU processes). fastai's ``DistributedDL`` shares out the batches. An ensemble's members go
side by side instead, one a device (side_by_side.py).

This process is rank 0: it writes the run folder and prints. The others (``_follow``) run the
same training quietly and write nothing anyone sees. Every rank validates on the whole validation
set, so all of them measure the same losses and keep, stop and save at the same epoch; the
learning rate the finder suggests on rank 0's share is given to all.

Past one machine, torchrun starts the processes instead (``torchrun --nnodes 2 --nproc-per-node 4
-m petclf train ...``, SLURM through it): each joins the group from torchrun's environment
(``run_launched``), global rank 0 writes the run folder, and each GPU is its process's local rank.

fastai's own ``distrib_ctx`` needs accelerate and CUDA (it broadcasts through ``.cuda()``); this
module asks neither, so the same code is tested with gloo on a CPU.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from petclf.errors import PetclfError, UsageError


def on_cuda(device: str) -> bool:
    """Whether ``--device`` trains on GPUs: the one answer the checks and the process group share."""
    import torch

    return device.startswith("cuda") or device == "auto" and torch.cuda.is_available()


def check_devices(devices: int, device: str) -> None:
    import torch

    if devices > 1 and device.startswith("cuda:"):
        raise UsageError(f"--devices {devices} trains on cuda:0 to cuda:{devices - 1}; give --device cuda (or auto), "
                         f"not {device} (CUDA_VISIBLE_DEVICES chooses which GPUs those are)")
    if on_cuda(device) and devices > torch.cuda.device_count():
        raise UsageError(f"--devices {devices} --device {device}: this machine has {torch.cuda.device_count()} "
                         "CUDA GPU(s)")


def run_parallel(train: Callable, devices: int, device: str, **kwargs):
    """``train(**kwargs)`` on ``devices`` processes; rank 0's report (its run folder) is returned.

    Rank 0 holds the rendezvous store (torch's TCPStore) on a port it bound itself, so no other
    program can take the port between its choice and its use. The followers are not daemons:
    a daemon may not start children, and a DataLoader's workers (``--workers``) are children."""
    import torch.distributed as dist
    import torch.multiprocessing as mp

    check_devices(devices, device)
    store = dist.TCPStore(HOST, 0, devices, True, timeout=TIMEOUT, wait_for_workers=False)
    address = (HOST, store.port)
    context = mp.get_context("spawn")
    # The followers' run folders, which nobody reads: removed here, also when a follower had to be stopped.
    with tempfile.TemporaryDirectory(prefix="petclf-followers-") as scratch:
        followers = [context.Process(target=_follow, daemon=False, args=(
            train, rank, devices, address, device,
            {**kwargs, "out": Path(scratch) / f"rank{rank}", "quiet": True, "overwrite": False},
            mp.get_start_method()))
            for rank in range(1, devices)]
        with environment(PYTHONWARNINGS="ignore"):  # the followers' import warnings: rank 0 shows its own
            for process in followers:
                process.start()
        try:
            with group(0, devices, device, store):
                report = train(**kwargs)
        except BaseException:
            _end(followers, grace=5)
            raise
        _end(followers, grace=60)
        return report


def _end(followers: list, grace: float) -> None:
    """Followers end with rank 0. After a whole run they are writing their own run folder; after
    Ctrl-C or an error that reached rank 0 alone (``kill -INT`` of its process), they would wait
    at the next step for it until ``TIMEOUT``, so they are stopped. Ctrl-C while rank 0 waits
    stops them at once: rank 0's run folder is written by then (or its error already on its way)."""
    try:
        for process in followers:
            process.join(timeout=grace)
    except KeyboardInterrupt:
        pass
    for process in followers:
        if process.is_alive():
            process.terminate()
            process.join()


def _follow(train: Callable, rank: int, devices: int, address, device: str, kwargs: dict, start: str) -> None:
    """A follower meets petclf's errors and Ctrl-C where rank 0 does (the same data, the same
    steps), and rank 0 reports them: the follower's copy would only repeat it, as a traceback.

    A spawned process starts its own children by spawning too, which needs every part of the data
    pipeline to pickle (fastai's lambdas do not); its DataLoader workers start as rank 0's do
    (``start``: rank 0's start method)."""
    import multiprocessing

    import torch.distributed as dist

    multiprocessing.set_start_method(start, force=True)
    try:
        with group(rank, devices, device, dist.TCPStore(address[0], address[1], devices, False, timeout=TIMEOUT)):
            train(**kwargs)
    except (PetclfError, KeyboardInterrupt):
        return


# What torchrun (and torch.distributed.launch) tells each process it starts.
LAUNCHED = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched_world() -> int | None:
    """How many processes torchrun started to train together; None when it did not start this one."""
    return int(os.environ["WORLD_SIZE"]) if all(name in os.environ for name in LAUNCHED) else None


def launched_rank() -> int | None:
    """This process's global rank among those torchrun started; None when it did not start this one."""
    return int(os.environ["RANK"]) if launched_world() is not None else None


def follows() -> bool:
    """Whether this process is one torchrun started besides global rank 0: it trains, quietly, and
    its run folder is a scratch one."""
    return bool(launched_rank())


def run_launched(train: Callable, device: str, **kwargs):
    """``train(**kwargs)`` as this process's part of a torchrun launch; returns its report (global
    rank 0's is the run folder; the others' is a scratch one, removed).

    torchrun's variables are hidden from fastai while it trains: fastai reads WORLD_SIZE and RANK
    and would gather each rank's validation metrics, though every rank here validates on the
    whole validation set already."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = (int(os.environ["LOCAL_RANK"]), int(os.environ["LOCAL_WORLD_SIZE"]))
    with tempfile.TemporaryDirectory(prefix="petclf-follower-") as scratch:
        if rank != 0:
            kwargs = {**kwargs, "out": Path(scratch) / "run", "quiet": True, "overwrite": False}
        with group(rank, world, device, local=local), environment(**{name: None for name in LAUNCHED}):
            return train(**kwargs)


HOST = "127.0.0.1"
_GROUP: dict = {}
# How long a process waits for the others at a collective step before giving up: they meet at
# every batch, so a wait this long means one of them died (the default is half an hour).
TIMEOUT = datetime.timedelta(minutes=5)


@contextmanager
def group(rank: int, world: int, device: str, store=None, local: tuple[int, int] | None = None):
    """This process as ``rank`` of ``world``: the process group, its device and its CPU threads.
    ``store``: the rendezvous store (None: torchrun's, from the environment); ``local``: this
    process's rank among, and the number of, the group's processes on this machine (default: all)."""
    import torch
    import torch.distributed as dist

    cuda = on_cuda(device)
    local_rank, local_world = local or (rank, world)
    threads = torch.get_num_threads()
    if cuda:
        torch.cuda.set_device(local_rank)
    else:  # the CPU's cores shared out, or N processes each take them all and wait on each other
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    meet = {"store": store} if store is not None else {"init_method": "env://"}
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world, timeout=TIMEOUT, **meet)
    _GROUP.update(rank=rank, world=world, device=f"cuda:{local_rank}" if cuda else "cpu")
    try:
        yield
    finally:  # rank 0 is the caller's own process: a library user's later work gets its cores back
        _GROUP.clear()
        dist.destroy_process_group()
        torch.set_num_threads(threads)


def world() -> int:
    """How many processes train together: 1 outside ``group``."""
    return _GROUP.get("world", 1)


def device_of_rank(device: str) -> str:
    """The device this process trains on: its own GPU in a group on GPUs, else ``device``."""
    return _GROUP["device"] if world() > 1 and _GROUP["device"].startswith("cuda") else device


def agree(value: float) -> float:
    """Rank 0's ``value``, on every rank."""
    if world() == 1:
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=_GROUP["device"])
    dist.broadcast(tensor, 0)
    return float(tensor.item())


def parallel_callback():
    """The fastai callback that trains the learner's model data-parallel (None outside ``group``)."""
    if world() == 1:
        return None
    from petclf.training.callbacks import DataParallel

    return DataParallel(_GROUP["rank"], _GROUP["world"])


@contextmanager
def environment(**values: str | None):
    """Environment variables set (None: removed) within, for this process and those it starts."""
    before = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
