import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamese_core.__main__ import main
from siamese_core.network.persistence import DEFAULT_MODEL, read_meta

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_params_json_shared_and_unshared(capsys):
    code, out, _ = run_cli(capsys, "params", "--preset", "keras-example", "--json")
    shared = json.loads(out)
    assert (
        code == 0 and shared["total"] == 133_504 and shared["branch"] == 133_504 and shared["shared"] is True
    )
    code, out, _ = run_cli(capsys, "params", "--preset", "keras-example", "--unshared", "--json")
    unshared = json.loads(out)
    assert unshared["total"] == 2 * 133_504 and unshared["shared"] is False


def test_params_matchnet_and_multi_input(capsys):
    _, out, _ = run_cli(capsys, "params", "--preset", "matchnet", "--json")
    m = json.loads(out)
    _, out, _ = run_cli(capsys, "params", "--preset", "matchnet", "--unshared", "--json")
    assert json.loads(out)["total"] - m["total"] == m["branch"]
    _, out, _ = run_cli(capsys, "params", "--preset", "multi-input-lstm", "--json")
    right = json.loads(out)
    _, out, _ = run_cli(capsys, "params", "--preset", "multi-input-lstm", "--unshared", "--json")
    wrong = json.loads(out)
    assert right["branch"] == 7_096_896
    assert wrong["total"] - right["total"] == 5 * right["branch"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["params", "--preset", "nope"], "unknown preset"),
        (["params"], "required"),
        (["train", "--preset", "cnn", "--epochs", "0"], "Epochs must be between 1 and 500"),
        (["frobnicate"], "invalid choice"),
        (["compare", "missing-a.png", "missing-b.png"], "no such file"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_compare_two_pngs_with_the_default_model(tmp_path, capsys, small_data):
    paths = []
    for k, idx in enumerate(
        [
            np.flatnonzero(small_data.test.y == 3)[0],
            np.flatnonzero(small_data.test.y == 3)[1],
            np.flatnonzero(small_data.test.y == 7)[0],
        ]
    ):
        p = tmp_path / f"{k}.png"
        Image.fromarray(small_data.test.x[idx]).save(p)
        paths.append(str(p))
    _, out, _ = run_cli(capsys, "compare", paths[0], paths[1], "--json")
    same = json.loads(out)
    _, out, _ = run_cli(capsys, "compare", paths[0], paths[2], "--json")
    diff = json.loads(out)
    assert same["same"] is True and diff["same"] is False
    assert same["distance"] < same["threshold"] < diff["distance"]
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code, _, err = run_cli(capsys, "compare", str(bad), paths[0])
    assert code == 2 and "not an image" in err


def test_train_json_end_to_end(tmp_path, capsys):
    out_file = tmp_path / "m.keras"
    code, out, err = run_cli(
        capsys,
        "train",
        "--preset",
        "keras-example",
        "--data",
        "mnist-5k",
        "--epochs",
        "1",
        "--out",
        str(out_file),
        "--json",
    )
    r = json.loads(out)
    assert code == 0 and r["epochs"] == 1 and r["dataset"] == "mnist-5k" and r["device"] == "CPU"
    assert 0.5 < r["test_pair_accuracy"] <= 1 and r["threshold"] == 0.5 and r["train_seconds"] > 0
    assert "epoch 1/1" in err and out_file.exists()
    # the saved history keeps the JSON format model files have always had (the shipped one's too)
    (epoch,) = read_meta(out_file)["history"]
    keys = "epoch loss pair_accuracy val_loss val_pair_accuracy threshold seconds complete"
    assert sorted(epoch) == sorted(keys.split())
    assert epoch["epoch"] == 1 and epoch["complete"] is True
    assert sorted(read_meta(DEFAULT_MODEL)["history"][0]) == sorted(epoch)
    code, out, _ = run_cli(capsys, "evaluate", "--model", str(out_file), "--data", "mnist-5k", "--json")
    e = json.loads(out)
    assert code == 0 and e["test_pair_accuracy"] == pytest.approx(r["test_pair_accuracy"], abs=0.03)


def test_python_dash_m_runs_and_fails_cleanly():
    ok = subprocess.run(
        [sys.executable, "-m", "siamese_core", "params", "--preset", "cnn", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["shared"] is True
    bad = subprocess.run(
        [sys.executable, "-m", "siamese_core", "params", "--preset", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_importing_the_core_does_not_import_streamlit_or_tensorflow():
    code = (
        "import sys, siamese_core, siamese_core.config, siamese_core.network.data; "
        "print('streamlit' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.split() == ["False", "False"]
