"""An ensemble on several devices (``--devices N --folds K``): its members trained side by side,
one process a device, instead of one after another, each data-parallel on all N (distributed.py).

A member on a device of its own keeps its whole batch, so its BatchNorm statistics and its
steps are those of a one-device run (the same model, seed for seed, up to the rounding of a
different thread count), and no process waits on another's gradients. bench/distributed.py
measures both ways.

Each process takes the next member nobody has begun, so K members need not divide evenly
among N devices; the caller hears of each as it ends, in the order they end. On a CPU the N
processes share its cores, as data-parallel ranks do.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from petclf import console
from petclf.errors import PetclfError
from petclf.training.kinds import Labelled, kind_of
from petclf.training.learner import learner
from petclf.training.member import fine_tuned, log_dir
from petclf.training.recipe import TrainOptions
from petclf.training.runfolder import Member

# How often the caller looks for a process that died without a word (killed, out of memory).
POLL_S = 1.0


class MemberFailed(PetclfError):
    """A member's own error (bad data, a diverged loss), from the process that trained it."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def train_members(data: Labelled, splits: list[Labelled], members: list[Member], options: TrainOptions,
                  facts: dict, out: Path, quiet: bool) -> None:
    """The members not yet in ``members`` trained side by side on ``options.devices``, each added
    as soon as those before it have ended too: the members stay in order, and after Ctrl-C
    ``members`` holds those a resumed run goes on from. ``facts``: the run's rate, its origin and
    classes, as one after another would have them."""
    ended, first = {}, len(members)

    def done(k: int, sent: tuple[bytes, Member]) -> None:
        ended[k] = member = _unpacked(*sent)
        while len(members) in ended:  # kept before it is said: Ctrl-C may come as the line is read
            members.append(ended.pop(len(members)))
        if not quiet:
            console.note(f"member {k + 1} of {len(splits)} done: validation accuracy "
                         f"{member.history[member.best_epoch]['accuracy']:.3f} at epoch {member.best_epoch}")

    if not quiet:
        console.note(f"{len(data.labels)} {kind_of(data).name}: training {len(splits) - first} models side by side on "
                     f"{options.devices} devices, each validated on its own stratified fold, and averaging them "
                     f"(--folds {options.folds})")
    job = partial(_member, splits=splits, options=options, facts=facts, out=out)
    _run_apart(job, range(first, len(splits)), options.devices, options.device, done)


def _member(k: int, device: str, splits: list[Labelled], options: TrainOptions, facts: dict,
            out: Path) -> tuple[bytes, Member]:
    """Member ``k`` on ``device``, in a process of its own: trained as one after another would
    be, quietly, and packed to go back (``_unpacked``). Ctrl-C does not reach it
    (``_deaf_to_ctrl_c``): the caller stops it."""
    import io

    import torch

    learn, _, _ = learner(splits[k], replace(options, seed=options.seed + k, device=device), True,
                          members=len(splits), scaled_on=list(range(len(splits[k].labels))))
    member = fine_tuned(learn, splits[k], options, facts, None, True, log_dir(options, out, k, len(splits)))[0]
    weights = io.BytesIO()
    torch.save(member.state, weights)
    return weights.getvalue(), replace(member, state={})


def _unpacked(weights: bytes, member: Member) -> Member:
    """A member as ``_member`` sent it: its weights as bytes (through a queue, torch would send each
    tensor as a file descriptor of shared memory, one per tensor of every member), read as tensors
    only, the rest as it was."""
    import io

    import torch

    return replace(member, state=torch.load(io.BytesIO(weights), weights_only=True))


def _run_apart(job: Callable[[int, str], Any], members: Iterable[int], devices: int, device: str,
               done: Callable[[int, Any], None]) -> None:
    """``job(k, its_device)`` for each member ``k``, in ``devices`` processes; ``done(k, result)``
    here as each ends. A member's error stops the others and is raised here; so is Ctrl-C, after
    which ``done`` has heard of every member that ended before it."""
    import multiprocessing

    import torch.multiprocessing as mp

    from petclf.training.distributed import environment, on_cuda

    context = mp.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    pending = list(members)
    for k in pending:
        tasks.put(k)
    cuda, processes = on_cuda(device), min(devices, len(pending))
    workers = [context.Process(target=_work, daemon=False, args=(
        job, f"cuda:{slot}" if cuda else device, processes, tasks, results, multiprocessing.get_start_method()))
        for slot in range(processes)]
    with environment(PYTHONWARNINGS="ignore"), _deaf_to_ctrl_c():  # their import warnings: the caller showed its own
        for worker in workers:
            tasks.put(None)  # one stop sign each, behind the members
            worker.start()
    try:
        while pending:
            k, outcome, value = _next(results, workers)
            if outcome == "error":
                raise MemberFailed(f"member {k + 1}: {value[0]}", value[1])
            pending.remove(k)
            done(k, value)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


@contextmanager
def _deaf_to_ctrl_c():
    """Processes started within ignore Ctrl-C from their first instruction (an ignored signal stays
    ignored across exec): it is the caller's, which stops them and says what was kept. Heard by
    every process of a terminal, it would otherwise end each wherever it was, with a traceback."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _next(results, workers: list) -> tuple[int, str, Any]:
    """The next message from the members' processes; an error when one of them died, or all
    ended, with a member still to come."""
    while True:
        try:
            return results.get(timeout=POLL_S)
        except queue.Empty:
            died = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if died or not any(w.is_alive() for w in workers):
                raise PetclfError("a process training the ensemble's members ended without its member"
                                  + (f" (exit code {died[0]}: killed, or out of memory?)" if died else "")) from None


def _work(job: Callable[[int, str], Any], device: str, processes: int, tasks, results, start: str) -> None:
    """One device's process: members until the stop sign. Its DataLoader workers (``--workers``)
    start as the caller's do (``start``): fastai's pipeline holds lambdas, which spawn cannot send."""
    import multiprocessing

    import torch

    multiprocessing.set_start_method(start, force=True)
    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    else:  # the cores shared out, or each process takes them all and they slow each other down
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // processes))
    while (k := tasks.get()) is not None:
        try:
            results.put((k, "done", job(k, device)))
        except PetclfError as error:
            results.put((k, "error", (str(error), error.exit_code)))
            return
        except Exception as error:  # noqa: BLE001 - a defect, said as the caller's own would be
            results.put((k, "error", (f"unexpected {type(error).__name__}: {error}", 1)))
            return
