"""The skrep command: skrep pairwise ... -o distances.csv."""

import csv
import re
import subprocess
import sys

import numpy as np
import pytest

from skrep import LinearMetric, PermutationMetric, pairwise_distances
from skrep.cli import load_networks, main
from skrep.extraction import extract_activations


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    names = rows[0][1:]
    assert [row[0] for row in rows[1:]] == names
    return names, np.array([[float(v) for v in row[1:]] for row in rows[1:]])


@pytest.fixture
def networks(tmp_path, rng):
    latent = rng.standard_normal((40, 6))
    arrays = [
        latent @ rng.standard_normal((6, w)) + rng.standard_normal((40, w)) for w in (6, 5, 6)
    ]
    for name, array in zip("abc", arrays, strict=True):
        np.save(tmp_path / f"{name}.npy", array)
    return arrays


def test_pairwise_files_to_csv(tmp_path, networks, capsys):
    out = tmp_path / "distances.csv"
    files = [str(tmp_path / f"{name}.npy") for name in "abc"]
    assert main(["pairwise", "--metric", "linear", "--alpha", "0.5", *files, "-o", str(out)]) == 0
    names, D = read_csv(out)
    assert names == ["a", "b", "c"]
    expected, _ = pairwise_distances(LinearMetric(alpha=0.5), networks)
    np.testing.assert_allclose(D, expected, rtol=0, atol=1e-15)
    assert "3/3" in capsys.readouterr().err  # the progress bar


def test_pairwise_folder_npz_and_held_out_split(tmp_path, networks, capsys):
    folder = tmp_path / "zoo"
    folder.mkdir()
    np.savez(folder / "more.npz", first=networks[0], second=networks[1])
    np.save(folder / "solo.npy", networks[2])
    out = tmp_path / "d.csv"
    code = main(
        [
            "pairwise",
            "--metric",
            "permutation",
            str(folder),
            "-o",
            str(out),
            "--quiet",
            "--test-fraction",
            "0.25",
            "--seed",
            "3",
        ]
    )
    assert code == 0 and capsys.readouterr().err == ""
    names, D = read_csv(out)
    assert names == ["more/first", "more/second", "solo"]
    test_names, D_test = read_csv(tmp_path / "d_test.csv")
    assert test_names == names
    held_out = np.sort(np.random.default_rng(3).permutation(40)[:10])
    train = np.setdiff1d(np.arange(40), held_out)
    expected = pairwise_distances(
        PermutationMetric(), [X[train] for X in networks], [X[held_out] for X in networks]
    )
    np.testing.assert_allclose(D, expected[0], atol=1e-15)
    np.testing.assert_allclose(D_test, expected[1], atol=1e-15)


def test_figure_option(tmp_path, networks):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    figure = tmp_path / "d.png"
    files = [str(tmp_path / f"{name}.npy") for name in "abc"]
    assert (
        main(["pairwise", *files, "-o", str(tmp_path / "d.csv"), "-q", "--figure", str(figure)])
        == 0
    )
    assert figure.stat().st_size > 1000


def test_figure_titles_say_the_parameters_and_the_split(tmp_path, networks, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    import skrep.cli_compare

    matplotlib.use("Agg")
    drawn = []
    for name in ("plot_distance_matrix", "plot_similarity_matrix"):
        plot = getattr(skrep.cli_compare, name)

        def record(M, *args, plot=plot, **kwargs):
            drawn.append((np.asarray(M), kwargs["title"]))
            return plot(M, *args, **kwargs)

        monkeypatch.setattr(skrep.cli_compare, name, record)
    files = [str(tmp_path / f"{name}.npy") for name in "abc"]
    split = ["--test-fraction", "0.25", "-q"]
    argv = ["pairwise", "--alpha", "0.5", *files, "-o", str(tmp_path / "d.csv"), *split]
    assert main([*argv, "--figure", str(tmp_path / "d.pdf")]) == 0
    assert (tmp_path / "d.pdf").stat().st_size > 1000
    assert (tmp_path / "d_test.pdf").stat().st_size > 1000
    (train, train_title), (test, test_title) = drawn
    np.testing.assert_array_equal(train, read_csv(tmp_path / "d.csv")[1])
    np.testing.assert_array_equal(test, read_csv(tmp_path / "d_test.csv")[1])
    for title in (train_title, test_title):
        assert "LinearMetric(alpha=0.5, score_method='angular', center_columns=True" in title
    assert "training distances: fitted and measured on 30 training stimuli" in train_title
    assert "held-out distances: measured on 10 held-out stimuli" in test_title
    # A similarity matrix of two models' layers.
    drawn.clear()
    argv = ["similarity", "--measure", "rsa", "--compare-method", "pearson", *files[:2]]
    argv += ["--against", files[2], "-o", str(tmp_path / "s.csv"), "-q"]
    assert main([*argv, "--figure", str(tmp_path / "s.svg")]) == 0
    ((values, title),) = drawn
    assert values.shape == (2, 1) and (tmp_path / "s.svg").stat().st_size > 1000
    assert "RSA(rdm_method='correlation', compare_method='pearson')" in title
    assert "training similarities: fitted and measured on all 40 stimuli" in title


def _save(array):
    return lambda folder: np.save(folder / "missing.npy", array)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: None, "cannot read .*missing.npy.*no such file"),
        (
            lambda folder: (folder / "missing.npy").write_text("not numpy"),
            "cannot read .*missing.npy.* as a numpy",
        ),
        (_save(np.array([{"a": 1}], dtype=object)), "allow_pickle=False"),
        (_save(np.zeros((39, 6))), "missing has 39 rows but a has 40"),
        (_save(np.zeros((40, 6, 2))), "3-D array of shape"),
        (_save(np.array([["x"] * 3] * 40)), "non-numeric"),
        (_save(np.full((40, 3), np.nan)), "missing contains 120 NaN"),
    ],
)
def test_clear_errors(tmp_path, networks, capsys, make, message):
    make(tmp_path)
    files = [str(tmp_path / "a.npy"), str(tmp_path / "missing.npy")]
    assert main(["pairwise", *files, "-o", str(tmp_path / "d.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skrep: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not (tmp_path / "d.csv").exists()


def test_needs_two_networks_and_valid_split(tmp_path, networks, capsys):
    assert main(["pairwise", str(tmp_path / "a.npy"), "-o", str(tmp_path / "d.csv")]) == 2
    assert "expected at least 2" in capsys.readouterr().err
    files = [str(tmp_path / f"{name}.npy") for name in "ab"]
    assert main(["pairwise", *files, "-o", str(tmp_path / "d.csv"), "--test-fraction", "1.5"]) == 2
    assert "--test-fraction must be between 0 and 1" in capsys.readouterr().err
    assert main(["pairwise", *files, "-o", str(tmp_path / "d.csv"), "--alpha", "3"]) == 2
    assert "'alpha' parameter" in capsys.readouterr().err


def test_duplicate_names_are_rejected(tmp_path, networks):
    (tmp_path / "other").mkdir()
    np.save(tmp_path / "other" / "a.npy", networks[0])
    from skrep.cli import CLIError

    with pytest.raises(CLIError, match="unique; repeated: a"):
        load_networks([tmp_path / "a.npy", tmp_path / "other" / "a.npy"])


def test_console_entry_point(tmp_path, networks):
    files = [str(tmp_path / f"{name}.npy") for name in "ab"]
    result = subprocess.run(
        [sys.executable, "-m", "skrep", "pairwise", *files, "-o", str(tmp_path / "d.csv"), "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(tmp_path / "d.csv")[0] == ["a", "b"]


def test_write_distance_csv_checks_the_shape(tmp_path):
    from skrep.cli import write_distance_csv

    with pytest.raises(ValueError, match=r"D has shape \(2, 3\) but 2 names were given"):
        write_distance_csv(tmp_path / "d.csv", np.zeros((2, 3)), ["a", "b"])


# skrep extract --model module:factory --stimuli x.npy --layers ... -o folder/

MODELS = """
import torch


def make():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 5 * 5, 6),
    )


def make_seeded():
    torch.manual_seed(0)
    return make()


not_callable = 3


def not_a_model():
    return "a model"


def broken():
    raise RuntimeError("no GPU\\nhere")
"""


@pytest.fixture
def extraction(tmp_path, monkeypatch, rng):
    """A module of model factories on sys.path, stimuli in a .npy file, the stimuli."""
    pytest.importorskip("torch")
    (tmp_path / "skrep_test_models.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "skrep_test_models", raising=False)
    stimuli = rng.standard_normal((20, 3, 5, 5)).astype(np.float32)
    np.save(tmp_path / "stimuli.npy", stimuli)
    return tmp_path, stimuli


def extract_argv(folder, *options, model="skrep_test_models:make_seeded", layers=("0", "3")):
    return [
        "extract",
        "--model",
        model,
        "--stimuli",
        str(folder / "stimuli.npy"),
        "--layers",
        *layers,
        "-o",
        str(folder / "acts"),
        *options,
    ]


def forward(model, stimuli):
    """Layers 0 (the convolution) and 3 (the output) by a plain forward pass."""
    import torch

    x = torch.from_numpy(stimuli)
    with torch.no_grad():
        model.eval()
        return {"0": model[0](x).reshape(len(x), -1).numpy(), "3": model(x).numpy()}


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. torch.from_numpy of a read-only map
def test_extract_matches_a_forward_pass_and_feeds_pairwise(extraction, capsys):
    folder, stimuli = extraction
    assert main(extract_argv(folder, "--batch-size", "6")) == 0
    out = capsys.readouterr().out
    assert f"2 layers of 20 stimuli written to {folder / 'acts'}" in out
    assert re.search(r"0 +20 x 100 +float32 +0\.npy", out), out
    assert re.search(r"3 +20 x 6 +float32 +3\.npy", out), out
    from skrep_test_models import make_seeded

    expected = forward(make_seeded(), stimuli)
    for layer in "03":
        np.testing.assert_allclose(
            np.load(folder / "acts" / f"{layer}.npy"), expected[layer], rtol=1e-5, atol=1e-6
        )
    # The folder, or its .npy files, go straight into skrep pairwise and load_networks.
    names, arrays = load_networks([folder / "acts"])
    assert names == ["0", "3"]
    csv_file = folder / "d.csv"
    assert main(["pairwise", str(folder / "acts"), "-o", str(csv_file), "-q"]) == 0
    names, D = read_csv(csv_file)
    assert names == ["0", "3"]
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(), arrays)[0], atol=1e-12)
    files = sorted(str(p) for p in (folder / "acts").glob("*.npy"))
    assert main(["pairwise", *files, "-o", str(folder / "d2.csv"), "-q"]) == 0
    np.testing.assert_array_equal(read_csv(folder / "d2.csv")[1], D)


def test_extract_weights_round_trip(extraction, capsys):
    import torch
    from skrep_test_models import make

    folder, stimuli = extraction
    saved = make()
    torch.save(saved.state_dict(), folder / "weights.pt")
    weights = ("--weights", str(folder / "weights.pt"))
    argv = extract_argv(folder, *weights, model="skrep_test_models:make")
    assert main(argv) == 0
    expected = forward(saved, stimuli)
    for layer in "03":
        np.testing.assert_allclose(
            np.load(folder / "acts" / f"{layer}.npy"), expected[layer], rtol=1e-5, atol=1e-6
        )
    # A rerun into the same folder returns the finished extraction.
    assert main(argv) == 0
    np.testing.assert_allclose(np.load(folder / "acts" / "3.npy"), expected["3"], atol=1e-6)
    # Other weights into the same folder: an error, not a resume.
    torch.save(make().state_dict(), folder / "other.pt")
    argv[argv.index(str(folder / "weights.pt"))] = str(folder / "other.pt")
    capsys.readouterr()
    assert main(argv) == 2
    assert re.search(
        r"--output '.*acts' holds the activations of another extraction \(different model\)",
        capsys.readouterr().err,
    )


def test_extract_file_factory_pool_and_projection(extraction):
    from skrep_test_models import make_seeded

    folder, stimuli = extraction
    model = f"{folder / 'skrep_test_models.py'}:make_seeded"
    argv = extract_argv(folder, "--pool", "mean", model=model, layers=("leaves",))
    assert main(argv) == 0
    assert np.load(folder / "acts" / "0.npy").shape == (20, 4)
    np.testing.assert_allclose(
        np.load(folder / "acts" / "0.npy"),
        forward(make_seeded(), stimuli)["0"].reshape(20, 4, 25).mean(axis=2),
        atol=1e-6,
    )
    assert [np.load(folder / "acts" / f"{n}.npy").shape[1] for n in "0123"] == [4, 4, 100, 6]
    (folder / "acts").rename(folder / "pooled")
    options = ("--max-features", "8", "--random-state", "3", "--device", "cpu")
    assert main(extract_argv(folder, *options, layers=("[0-2]",))) == 0
    expected = extract_activations(
        make_seeded(), stimuli, ["0", "1", "2"], max_features=8, random_state=3
    )
    for name, values in expected.items():
        assert values.shape == (20, 8)
        np.testing.assert_allclose(np.load(folder / "acts" / f"{name}.npy"), values)


def test_extract_imports_from_the_current_folder(extraction, monkeypatch):
    # The installed `skrep` script does not put the current folder on sys.path.
    folder, _ = extraction
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(folder))])
    monkeypatch.chdir(folder)
    assert main(extract_argv(folder, model="skrep_test_models:make")) == 0


def _write(name, content):
    return lambda folder: (folder / name).write_text(content)


def _wrong_weights(folder):
    import torch

    torch.save(torch.nn.Linear(2, 2).state_dict(), folder / "w.pt")


@pytest.mark.parametrize(
    ("argv", "setup", "message"),
    [
        (["--model", "no_colon"], None, r"--model 'no_colon' is not of the form package\.module"),
        (
            ["--model", "skrep_no_such_module:make"],
            None,
            "--model: cannot import 'skrep_no_such_module': No module named",
        ),
        (
            ["--model", "skrep_test_models:missing"],
            None,
            "--model: 'skrep_test_models' has no attribute 'missing'",
        ),
        (["--model", "skrep_test_models:not_callable"], None, "int, not a callable"),
        (["--model", "skrep_test_models:not_a_model"], None, "returned a str; expected a torch"),
        (["--model", "skrep_test_models:broken"], None, r"raised RuntimeError: no GPU here\n"),
        (["--model", "nowhere/models.py:make"], None, "--model: no such file 'nowhere/models.py'"),
        (
            ["--model", "bad_syntax.py:make"],
            _write("bad_syntax.py", "def make(:\n"),
            "--model: importing '.*bad_syntax.py' raised SyntaxError",
        ),
        (["--stimuli", "missing.npy"], None, "--stimuli: no such file 'missing.npy'"),
        (["--stimuli", "{}/text.npy"], _write("text.npy", "text"), "--stimuli: cannot read"),
        (["--weights", "missing.pt"], None, "--weights: no such file 'missing.pt'"),
        (["--weights", "{}/w.pt"], _wrong_weights, "--weights: .*Missing key"),
        (["--layers", "4"], None, "--layers: .*'4', which is not a module .* closest first"),
        (["--device", "abacus"], None, "--device: .*abacus"),
        (["--output", "{}/stimuli.npy"], None, "--output .* is a file; expected a folder"),
    ],
)
def test_extract_errors(extraction, capsys, monkeypatch, argv, setup, message):
    folder, _ = extraction
    monkeypatch.chdir(folder)
    if setup is not None:
        setup(folder)
    argv = [a.format(folder) for a in argv]
    base = extract_argv(folder)
    for option, value in zip(argv[::2], argv[1::2], strict=True):
        key = "-o" if option == "--output" else option
        if key in base:
            base[base.index(key) + 1] = value
        else:
            base += [option, value]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.startswith("skrep: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not (folder / "acts").exists()


def test_extract_forward_errors_are_one_line(extraction, capsys):
    folder, _ = extraction
    np.save(folder / "stimuli.npy", np.zeros((4, 7), np.float32))
    assert main(extract_argv(folder)) == 2
    err = capsys.readouterr().err
    assert err.startswith("skrep: error: RuntimeError while extracting: ")
    assert err.count("\n") == 1


def test_extract_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--model", "--weights", "--stimuli", "--layers", "--max-features", "pairwise"):
        assert option in out
