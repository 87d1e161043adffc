"""petclf tune: a search space read with one-line errors, a study that stops, goes on and is
shared by processes, and a best.yaml that petclf train takes as it is."""

import csv
import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import SAMPLES, hear_ctrl_c, run

GUNPOINT = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
# Ridge trials at 32 px: seconds each, so that a study of a few trials fits in a test.
SMALL = "method: [gadf]\nsize: [32, 48]\nrocket: [true, false]\n"


@pytest.mark.parametrize("text, message", [
    ("lr: {low: 0.1, high: 0.01}", "lr: the range 0.1 to 0.01 is empty (low must be below high)"),
    ("lr: {low: 0, high: 0.1, log: true}", "lr: a log range must be above 0"),
    ("learning_rate: [0.1]", "learning_rate is not an option a trial can vary"),
    ("bs: []", "bs: no choices"),
    ("augment: [yes, maybe]", "augment: 'maybe' is not a bool"),
    ("epochs: {low: 1.5, high: 4}", "epochs: takes whole numbers"),
    ("method: {low: 1, high: 2}", "method: a range is {low, high, log} of a number option"),
    ("lr: {low: 0.001}", "lr: a range needs low and high"),
    ("- lr", "not a search space"),
    ("lr: [0.1", "not a JSON or YAML search space"),
])
def test_a_bad_search_space_is_one_line_naming_the_file_and_option(tmp_path, text, message):
    from petclf.errors import UsageError
    from petclf.tuning.space import read_space

    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as error:
        read_space(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_search_space_reads_ranges_choices_and_fixed_values(tmp_path):
    from petclf.tuning.space import Choice, Range, read_space

    path = tmp_path / "space.json"
    path.write_text(json.dumps({"lr": {"low": 1e-4, "high": 1e-2, "log": True}, "epochs": {"low": 2, "high": 9},
                                "label-smoothing": [0, 0.1], "arch": "tf_efficientnet_lite0"}))
    assert read_space(path) == {"lr": Range(1e-4, 1e-2, log=True), "epochs": Range(2, 9, integer=True),
                                "label_smoothing": Choice((0, 0.1)), "arch": Choice(("tf_efficientnet_lite0",))}


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400)])
def test_a_timeout_reads_as_a_user_writes_it(text, seconds):
    from petclf.cli.tune import _duration

    assert _duration(text) == seconds


def test_a_timeout_that_is_not_a_duration_is_refused():
    result = run("tune", GUNPOINT, "--timeout", "soon")
    assert result.exit_code == 2 and "'soon' is not a duration such as 90s, 30m or 2h" in result.stderr


def test_ridge_trials_draw_no_options_of_fine_tuning_and_fine_tuned_ones_no_minirocket():
    import optuna

    from petclf.training.recipe import FINE_TUNING
    from petclf.tuning.space import Choice, Range, suggest

    space = {"member": Choice(("ridge", "fine-tune")), "lr": Range(1e-4, 1e-2, log=True), "rocket": Choice((True, False))}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = [suggest(study.ask(), space, set(FINE_TUNING)) for _ in range(20)]
    assert {tuple(sorted(d)) for d in drawn} == {("member", "rocket"), ("lr", "member")}
    assert all(("lr" in d) == (d["member"] == "fine-tune") for d in drawn)


def test_a_trial_that_ctrl_c_stopped_runs_again_first_and_once():
    import optuna

    from petclf.tuning.study import _queue_interrupted

    study = optuna.create_study()
    trial = study.ask({"size": optuna.distributions.CategoricalDistribution([32, 48])})
    trial.set_user_attr("interrupted", True)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    _queue_interrupted(study)
    _queue_interrupted(study)  # a second opening finds it queued already
    assert len(study.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 1
    again = study.ask()  # the next trial is the queued one, with the stopped trial's options
    assert again.suggest_categorical("size", [32, 48]) == trial.params["size"]
    assert again.user_attrs["again_for"] == trial.number


@pytest.mark.parametrize("message", ["(sqlite3.OperationalError) table studies already exists",
                                     "(sqlite3.IntegrityError) UNIQUE constraint failed: alembic_version.version_num"])
def test_a_process_that_loses_the_race_to_create_the_database_opens_it_again(monkeypatch, message):
    """What SQLite says to a process whose tables or schema version another process made first
    (two tune workers started at once; each seen in a CI run)."""
    from petclf.tuning import study

    attempts = []

    def storage(url, engine_kwargs):
        attempts.append(url)
        if len(attempts) == 1:
            raise RuntimeError(message)
        return "the storage"

    class Optuna:
        class storages:
            RDBStorage = staticmethod(storage)

    monkeypatch.setattr(study.time, "sleep", lambda _: None)
    assert study._storage(Optuna, "sqlite:///t/study.db") == "the storage" and len(attempts) == 2


def test_a_storage_that_cannot_be_opened_is_one_line(tmp_path):
    result = run("tune", GUNPOINT, "--arch", "tf_efficientnet_lite0", "--storage", "nosuchdb://x/y",
                 "--out", tmp_path / "t")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --storage nosuchdb://x/y: cannot open the study database")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_study_goes_on_where_it_stopped_and_its_best_yaml_trains(tmp_path):
    (tmp_path / "space.yaml").write_text(SMALL)
    common = [GUNPOINT, "--arch", "tf_efficientnet_lite0", "--space", tmp_path / "space.yaml", "--out", tmp_path / "t"]
    first = run("tune", *common, "--trials", "2", "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["complete"] == 2 and report["objective"].startswith("out-of-fold validation loss over the 50")
    again = run("tune", *common, "--trials", "3", "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["complete"] == 3  # one trial more, not three
    rows = (tmp_path / "t" / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("trial,state,valid_loss") and len(rows) == 4
    assert {"history.png", "best.yaml", "study.db"} <= {p.name for p in (tmp_path / "t").iterdir()}
    trained = run("train", GUNPOINT, "--config", tmp_path / "t" / "best.yaml", "--out", tmp_path / "run", "--json")
    assert trained.exit_code == 0, trained.stderr
    best = json.loads(again.stdout)["best"]
    args = json.loads((tmp_path / "run" / "args.json").read_text())["options"]
    assert {k: args[k] for k in best["options"]} == best["options"]
    other = run("tune", SAMPLES / "GunPoint" / "GunPoint_TEST.tsv", *common[1:], "--trials", "4")
    assert other.exit_code == 2 and "searched other data or another space" in other.stderr


@pytest.mark.slow
def test_two_processes_share_one_sqlite_study(tmp_path):
    (tmp_path / "space.yaml").write_text(SMALL)
    command = [sys.executable, "-m", "petclf", "tune", str(GUNPOINT), "--arch", "tf_efficientnet_lite0", "--space",
               str(tmp_path / "space.yaml"), "--out", str(tmp_path / "t"), "--trials", "2", "-q"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [worker.communicate(timeout=900) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in results]
    import optuna

    study = optuna.load_study(study_name="petclf", storage=f"sqlite:///{tmp_path / 't' / 'study.db'}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 2 <= len(complete) <= 3  # one study of 2 (each may start one more as the other ends the second), not 2 of 2
    assert len({t.number for t in complete}) == len(complete)


@pytest.mark.slow
def test_what_the_epoch_listener_raises_stops_the_run_and_keeps_nothing(tmp_path):
    import optuna

    from petclf.series.data import find_series
    from petclf.training.recipe import TrainOptions
    from petclf.training.run import train

    seen = []

    def prune(row: dict) -> None:  # as a trial's pruning does, from the first member's epochs
        seen.append(row)
        if row["epoch"] == 1:
            raise optuna.TrialPruned("pruned at epoch 1")

    options = TrainOptions(arch="tf_efficientnet_lite0", member="fine-tune", size=32, epochs=3, folds=2, lr=1e-2)
    with pytest.raises(optuna.TrialPruned):
        train(find_series(GUNPOINT), options, tmp_path / "run", quiet=True, on_epoch=prune)
    assert [row["epoch"] for row in seen] == [0, 1] and {"train_loss", "valid_loss"} <= seen[0].keys()
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_ctrl_c_loses_only_the_trial_in_progress_which_runs_again_first(tmp_path):
    (tmp_path / "space.yaml").write_text(SMALL)
    command = [sys.executable, "-m", "petclf", "tune", str(GUNPOINT), "--arch", "tf_efficientnet_lite0", "--space",
               str(tmp_path / "space.yaml"), "--out", str(tmp_path / "t"), "--trials", "3"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=hear_ctrl_c)
    for line in proc.stderr:
        if line.split()[:2] == ["0", "complete"]:  # the first trial's row: the second begins
            time.sleep(3)  # into it (a trial here takes about ten seconds)
            proc.send_signal(signal.SIGINT)
            break
    _, rest = proc.communicate(timeout=300)
    assert proc.returncode == 130 and rest.strip().splitlines()[-1].startswith(
        "error: interrupted: 1 of 3 trials finished; the same command goes on")
    again = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    with (tmp_path / "t" / "trials.csv").open(newline="") as handle:
        trials = list(csv.DictReader(handle))
    assert [t["state"] for t in trials] == ["complete", "fail", "complete", "complete"]
    assert trials[2]["options"] == trials[1]["options"]  # the stopped trial's options, first


@pytest.mark.parametrize("data, space, expected", [
    (GUNPOINT, None, {"method": "seg,rp,gadf", "size": 224, "rocket": True}),
    (SAMPLES / "digits", None, {"size": 64, "lr": 1e-2, "lr_mult": 1, "epochs": 20, "bs": 16, "augment": False}),
    (GUNPOINT, SMALL, {"rocket": True}),  # the defaults' method and size are not among the choices: drawn
])
def test_a_new_study_tries_the_defaults_first(tmp_path, data, space, expected):
    from petclf.training.recipe import TrainOptions
    from petclf.training.source import load, source_of
    from petclf.tuning.space import read_space, space_for
    from petclf.tuning.study import defaults_trial

    labelled = load(source_of(data, None, 0.2, None, False, None, "0", "pad"), 42, quiet=True)
    if space:
        (tmp_path / "space.yaml").write_text(space)
    searched = read_space(tmp_path / "space.yaml") if space else space_for(labelled)
    assert defaults_trial(searched, TrainOptions(arch="tf_efficientnet_lite0"), labelled) == expected
