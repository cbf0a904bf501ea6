"""Every user error of skrep pairwise / similarity: one line on stderr, exit status 2, no file.

Outputs are checked before anything is loaded or computed, and a matrix that
is not finite or not a valid distance is never written with exit status 0.
"""

import re
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import skrep
import skrep.cli_compare
from skrep import LinearMetric, pairwise_distances
from skrep.cli import main
from skrep.engine.scheduler import PairsResult


@pytest.fixture
def files(tmp_path, rng):
    """Three networks a.npy, b.npy, c.npy of 20 stimuli; their paths."""
    for name in "abc":
        np.save(tmp_path / f"{name}.npy", rng.standard_normal((20, 4)))
    return [str(tmp_path / f"{name}.npy") for name in "abc"]


@pytest.fixture
def no_compute(monkeypatch):
    """Fail the test if the command computes anything."""

    def compute(*args, **kwargs):
        raise AssertionError("computed before checking the command line")

    monkeypatch.setattr(skrep.cli_compare, "compute_pairs", compute)


def one_line_error(capsys, argv, pattern):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("skrep: error: ") and err.count("\n") == 1, err
    assert re.search(pattern, err), err
    return err


def huge_header(handle):
    np.lib.format.write_array_header_1_0(
        handle, {"descr": "<f8", "fortran_order": False, "shape": (20, 2**40)}
    )


def test_npy_header_claiming_terabytes(tmp_path, files, capsys, no_compute):
    with open(tmp_path / "huge.npy", "wb") as handle:
        huge_header(handle)
    argv = ["pairwise", files[0], str(tmp_path / "huge.npy"), "-o", str(tmp_path / "d.csv")]
    one_line_error(
        capsys,
        argv,
        r"cannot read '.*huge.npy': its header describes a float64 array of shape "
        r"\(20, 1099511627776\) \(160.0 TiB\) but the file holds 0 bytes of data; the file is "
        "truncated or damaged",
    )
    # The same header inside an .npz archive.
    with zipfile.ZipFile(tmp_path / "zoo.npz", "w") as archive, archive.open("x.npy", "w") as x:
        huge_header(x)
    argv[2] = str(tmp_path / "zoo.npz")
    one_line_error(capsys, argv, r"cannot read 'x' of '.*zoo.npz': its header describes")
    assert not (tmp_path / "d.csv").exists()


def test_files_that_are_not_numpy_arrays(tmp_path, files, capsys):
    (tmp_path / "script.py").write_text("print('hello')\n")
    one_line_error(
        capsys,
        ["pairwise", files[0], str(tmp_path / "script.py"), "-o", str(tmp_path / "d.csv")],
        r"cannot read '.*script.py' as a numpy .npy or .npz file: it starts with neither "
        "numpy's magic string nor a zip header",
    )


def test_not_enough_memory_to_load(tmp_path, files, capsys, monkeypatch):
    def load(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "load", load)
    one_line_error(
        capsys, ["pairwise", *files, "-o", str(tmp_path / "d.csv")], "not enough memory to load"
    )


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        (["--cache-dir", "{}/a.npy"], r"--cache-dir '.*a.npy' is a file; expected a folder"),
        (["--cache-dir", "{}/a.npy/cache"], r"cannot be created: '.*a.npy' is a file"),
        (["--figure", "{}/nowhere/d.png"], r"--figure '.*d.png': no folder '.*nowhere'"),
        (
            ["--figure", "{}/d.xyz"],
            r"--figure '.*d.xyz' has the extension '.xyz'; expected .*\.png",
        ),
        (["--figure", "{}/d"], r"--figure '.*d' has no extension; expected one of .*\.pdf"),
        (["-o", "{}/a.npy/d.csv"], r"-o '.*a.npy/d.csv': '.*a.npy' is a file, not a folder"),
        (["-o", "{}"], r"-o '.*' is a folder; expected a file name"),
        (["-o", "{}/nowhere/d.csv"], r"-o '.*d.csv': no folder '.*nowhere'; create it first"),
        (["-o", "{}/d.png", "--figure", "{}/d.png"], r"the output files .* must differ"),
        (["-o", "{}/b.npy"], r"-o '.*b.npy' is one of the inputs; it would be overwritten"),
        (["--n-jobs", "0"], "argument --n-jobs: expected a positive number of workers, or -1"),
        (["--block-size", "0"], r"argument --block-size: expected an integer >= 1; got 0"),
        (["--seed", "-1"], r"argument --seed: expected an integer >= 0; got -1"),
        (["--kernel", "rbf"], r"--kernel does not apply to --metric linear \(LinearMetric\); its "),
        (["--metric", "cka", "--alpha", "0"], r"--alpha does not apply to --metric cka"),
        (["--metric", "nope"], r"argument --metric: invalid choice: 'nope'"),
        (["--rdm-method", "euclidean"], "unrecognized arguments: --rdm-method euclidean"),
    ],
)
def test_bad_options_before_computing(tmp_path, files, capsys, no_compute, options, pattern):
    b = np.load(files[1])
    options = [o.format(tmp_path) for o in options]
    argv = ["pairwise", *files, *options]
    if "-o" not in options:
        argv += ["-o", str(tmp_path / "d.csv")]
    one_line_error(capsys, argv, pattern)
    assert not (tmp_path / "d.csv").exists()
    np.testing.assert_array_equal(np.load(files[1]), b)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["pairwise"], "the following arguments are required: inputs, -o/--output"),
        (["similarity", "x.npy", "-o", "s.csv", "--alpha", "1"], "unrecognized arguments"),
        (["similarity", "x.npy", "-o", "s.csv", "--measure", "linear"], "invalid choice"),
        (
            ["similarity", "x.npy", "-o", "s.csv", "--measure", "pwcca", "-k", "3"],
            "-k/--n-neighbors does not apply",
        ),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, pattern):
    one_line_error(capsys, argv, pattern)


def test_wrong_dimensions_name_the_metric_shape(tmp_path, files, capsys):
    out = str(tmp_path / "d.csv")
    one_line_error(
        capsys,
        ["pairwise", "--metric", "gaussian-stochastic", *files, "-o", out],
        r"a holds a 2-D array of shape \(20, 4\); expected a 3-D array of shape "
        r"\(n_classes, n_repeats, n_units\)",
    )
    np.save(tmp_path / "b.npy", np.zeros((20, 4, 2)))
    one_line_error(capsys, ["similarity", *files, "-o", out], r"b holds a 3-D array")


def test_against_must_have_the_same_stimuli(tmp_path, files, capsys):
    np.save(tmp_path / "other.npy", np.ones((19, 3)))
    argv = ["similarity", *files, "--against", str(tmp_path / "other.npy")]
    one_line_error(
        capsys,
        [*argv, "-o", str(tmp_path / "s.csv")],
        r"other \(--against\) has 19 rows but a has 20",
    )


def fake_result(values):
    def compute(*args, **kwargs):
        return PairsResult(np.array(values, dtype=float), None, "distance", None, None)

    return compute


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        (
            [[0, np.nan, 1], [np.nan, 0, 1], [1, 1, 0]],
            r"between a and b is nan \(not finite; 2 such",
        ),
        ([[0, 1, np.inf], [1, 0, 1], [np.inf, 1, 0]], r"between a and c is inf \(not finite"),
        ([[0, -0.5, 1], [-0.5, 0, 1], [1, 1, 0]], r"between a and b is -0.5 \(negative"),
        ([[0, 4.0, 1], [4.0, 0, 1], [1, 1, 0]], r"between a and b is 4.0 \(above 3.14159"),
    ],
)
def test_invalid_matrices_are_not_written(tmp_path, files, capsys, monkeypatch, values, pattern):
    monkeypatch.setattr(skrep.cli_compare, "compute_pairs", fake_result(values))
    out = tmp_path / "d.csv"
    err = one_line_error(capsys, ["pairwise", *files, "-o", str(out), "-q"], pattern)
    assert "training distance" in err
    assert not out.exists()


def test_euclidean_distances_have_no_upper_bound(tmp_path, files, monkeypatch):
    monkeypatch.setattr(
        skrep.cli_compare, "compute_pairs", fake_result([[0, 4, 1], [4, 0, 1], [1, 1, 0]])
    )
    argv = ["pairwise", *files, "-o", str(tmp_path / "d.csv"), "-q", "--score-method", "euclidean"]
    assert main(argv) == 0


def test_huge_values_never_give_a_wrong_matrix(tmp_path, files, capsys):
    # One network scaled by 1e155: the shape metric is scale invariant, so the distance
    # must be that of the unscaled networks, or the command must refuse the data.
    a, b = np.load(files[0]), np.load(files[1])
    np.save(tmp_path / "big.npy", b * 1e155)
    out = tmp_path / "d.csv"
    code = main(["pairwise", files[0], str(tmp_path / "big.npy"), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    if code == 0:
        D = np.loadtxt(out, delimiter=",", skiprows=1, usecols=(1, 2))
        expected = pairwise_distances(LinearMetric(), [a, b])[0]
        np.testing.assert_allclose(D, expected, rtol=1e-9, atol=0)
    else:
        assert code == 2 and err.count("\n") == 1, err
        assert re.search(
            r"float64 overflowed while computing .* largest \|value\| .*e\+155, in big", err
        )
        assert not out.exists()


def warning_then(message, category, values):
    def compute(*args, **kwargs):
        for _ in range(3):  # one warning, three times, as a loop over pairs gives it
            warnings.warn(message, category, stacklevel=1)
        return fake_result(values)()

    return compute


def test_an_overflow_while_computing_is_an_error(tmp_path, files, capsys, monkeypatch):
    values = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    compute = warning_then("overflow encountered in matmul", RuntimeWarning, values)
    monkeypatch.setattr(skrep.cli_compare, "compute_pairs", compute)
    out = tmp_path / "d.csv"
    one_line_error(
        capsys,
        ["pairwise", *files, "-o", str(out), "-q"],
        r"float64 overflowed while computing the LinearMetric\(alpha=1.0, .*\) distances "
        r"\(overflow encountered in matmul; largest \|value\| .*, in [abc]\), so the matrix "
        "cannot be trusted",
    )
    assert not out.exists()
    # Other warnings are shown (once each) and the matrix is written.
    values = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    compute = warning_then("few stimuli", UserWarning, values)
    monkeypatch.setattr(skrep.cli_compare, "compute_pairs", compute)
    with pytest.warns(UserWarning, match="few stimuli") as record:
        assert main(["pairwise", *files, "-o", str(out), "-q"]) == 0
    assert len(record) == 1
    assert out.exists()


def test_interrupted(tmp_path, files, capsys, monkeypatch):
    def compute(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skrep.cli_compare, "compute_pairs", compute)
    assert main(["pairwise", *files, "-o", str(tmp_path / "d.csv")]) == 130
    assert capsys.readouterr().err == "skrep: error: interrupted.\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"skrep {skrep.__version__}\n"
    result = subprocess.run(
        [sys.executable, "-m", "skrep", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"skrep {skrep.__version__}\n"
