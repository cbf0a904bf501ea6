"""The main job (python -m skrep.demo) on a small configuration."""

import importlib.util

import numpy as np
import pytest

from skrep import demo
from skrep.demo import (
    format_table,
    identify_layers,
    layer_distance_table,
    main,
    nearest_layer_accuracy,
)
from skrep.metrics import LinearMetric

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_format_table():
    text = format_table([[1.0, 2.5]], ["row"], ["a", "bb"], corner="x")
    assert text.splitlines() == ["x        a     bb", "row  1.000  2.500"]


def test_layer_distance_table_is_symmetric_with_zero_diagonal_for_identical_networks(rng):
    layers = [rng.standard_normal((30, 4)), rng.standard_normal((30, 3))]
    table = layer_distance_table([layers, layers], LinearMetric())
    assert np.allclose(np.diag(table), 0.0, atol=1e-12)
    np.testing.assert_allclose(table, table.T, atol=1e-12)


def test_demo_prints_its_tables_and_writes_the_zoo_figure(capsys, tmp_path):
    figure = tmp_path / "zoo.png"
    main(
        ["--networks", "2", "--hidden", "16", "16", "--max-iter", "60", "--figure", str(figure)]
        + ["--bootstrap", "20", "--no-cnn"]
    )
    out = capsys.readouterr().out
    assert "Kriegeskorte" in out and "noise ceiling" in out and "animacy" in out
    assert "A \\ B" in out and "pixels" in out and "hidden2" in out
    assert "alpha=0.00" in out and "best alpha" in out
    assert "Model zoo" in out and "nearest layer" in out
    assert figure.stat().st_size > 1000
    assert "5. " not in out  # --no-cnn


def test_demo_with_one_hidden_layer(capsys):
    arguments = ["--networks", "2", "--hidden", "8", "--max-iter", "30", "--no-figure"]
    main([*arguments, "--bootstrap", "5", "--no-cnn"])
    assert "GridSearchCV over alpha for hidden1" in capsys.readouterr().out


def test_demo_needs_two_networks():
    with pytest.raises(SystemExit):
        main(["--networks", "1"])


def test_demo_needs_a_cnn_epoch():
    with pytest.raises(SystemExit):
        main(["--cnn-epochs", "0"])


def test_identify_layers():
    similarity = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.2], [0.1, 0.2, 0.6]])
    best, accuracy = identify_layers(similarity)
    np.testing.assert_array_equal(best, [0, 0, 2])
    assert accuracy == 2 / 3
    with pytest.raises(ValueError, match="square"):
        identify_layers(similarity[:2])


CNN_SECTION = (
    "5. From a model to scores",
    "Linear CKA",
    "A \\ B",
    "most similar layer of seed 1 to each of seed 0: relu1 ",
    "most similar layer of seed 0 to each of seed 1: relu1 ",
)


@pytest.mark.skipif(not HAS_TORCH, reason="the CNN section needs torch")
def test_cnn_section_prints_identification_and_probe(capsys, monkeypatch):
    # The probe is the slow part (checked for real in the slow test below).
    monkeypatch.setattr(demo, "cross_val_score", lambda *a, **k: np.array([0.5, 0.7]))
    demo._cnn_section(1)
    out = capsys.readouterr().out
    assert all(text in out for text in CNN_SECTION)
    assert "relu1 1024, relu2 2048, relu3 512, relu4 64, logits 10" in out
    assert "% identified" in out
    assert out.rstrip().splitlines()[-1].split() == ["accuracy"] + ["0.600"] * 6


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TORCH, reason="the CNN section needs torch")
def test_demo_cnn_section(capsys):
    arguments = ["--networks", "2", "--hidden", "8", "--max-iter", "30", "--no-figure"]
    main([*arguments, "--bootstrap", "5", "--cnn-epochs", "12"])
    out = capsys.readouterr().out
    assert all(text in out for text in CNN_SECTION)
    lines = out.splitlines()
    probe = lines[next(k for k, line in enumerate(lines) if line.startswith("accuracy"))]
    assert all(0.9 < float(value) <= 1 for value in probe.split()[1:])
    found = [line for line in lines if "most similar layer" in line]
    assert len(found) == 2
    assert all(int(line.split(": ")[-1].split("%")[0]) >= 60 for line in found)


def test_cnn_section_without_torch(capsys, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    demo._cnn_section(1)
    assert "torch is not installed" in capsys.readouterr().out


def test_nearest_layer_accuracy_closed_form():
    # Two networks of two layers: network 1's layer 0 is nearest to network 0's layer 1.
    D = np.array(
        [
            [0.0, 0.0, 2.0, 1.0],
            [0.0, 0.0, 3.0, 1.0],
            [2.0, 3.0, 0.0, 0.0],
            [1.0, 1.0, 0.0, 0.0],
        ]
    )
    assert nearest_layer_accuracy(D, 2, 2) == 0.5


def test_nearest_layer_accuracy_per_layer():
    # Three networks of two layers; only network 2's layer 1 is mistaken for layer 0.
    D = np.full((6, 6), 5.0)
    for i in range(3):
        for j in range(3):
            D[2 * i, 2 * j] = D[2 * i + 1, 2 * j + 1] = 1.0
    D[5, 0] = D[5, 2] = 0.5  # network 2, layer 1 is nearest to layer 0 of the others
    np.testing.assert_allclose(nearest_layer_accuracy(D, 3, 2, per_layer=True), [1.0, 4 / 6])
    assert nearest_layer_accuracy(D, 3, 2) == (1.0 + 4 / 6) / 2


def test_brain_model_ranking():
    from skrep.datasets import load_kriegeskorte92
    from skrep.demo import brain_model_ranking
    from skrep.functional import compare_rdms, noise_ceiling

    names, table, ceiling = brain_model_ranking(n_bootstrap=30, random_state=1)
    data = load_kriegeskorte92(condensed=True)
    expected = compare_rdms(data.model_rdms, data.brain_rdms, "spearman").mean(axis=1)
    assert table[0, 0] == expected.max() and sorted(names) == sorted(data.model_names.tolist())
    assert np.all(np.diff(table[:, 0]) <= 0)  # best first
    assert np.all(table[:, 1] <= table[:, 2])
    assert ceiling == noise_ceiling(data.brain_rdms, "spearman")
