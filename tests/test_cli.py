"""The skrep command: skrep pairwise ... -o distances.csv."""

import csv
import re
import subprocess
import sys

import numpy as np
import pytest

from skrep import LinearMetric, PermutationMetric, pairwise_distances
from skrep.cli import load_networks, main


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
    assert err.startswith("skrep pairwise: error: ")
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
