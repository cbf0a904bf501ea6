"""Files: extract_activations(out_dir=...) (memory maps, reruns, resumes) and Checkpoints."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from skrep.extraction import Checkpoints, extract_activations  # noqa: E402
from skrep.extraction.projection import layer_seed, projection_matrix  # noqa: E402
from skrep.extraction.store import RECORD  # noqa: E402


class Counted(nn.Module):
    """Counts its forward calls; raises on call ``fail_at`` (attributes outside the repr)."""

    def __init__(self, fail_at=None, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.lin = nn.Linear(4, 30)
        self.out = nn.Linear(30, 3)
        self.calls, self.fail_at = 0, fail_at

    def forward(self, x):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("interrupted")
        return self.out(torch.relu(self.lin(x)))


def manual(model, x):
    x = np.asarray(x, dtype=np.float64)
    w1, b1 = model.lin.weight.detach().numpy(), model.lin.bias.detach().numpy()
    w2, b2 = model.out.weight.detach().numpy(), model.out.bias.detach().numpy()
    lin = x @ w1.T.astype(np.float64) + b1
    return {"lin": lin, "out": np.maximum(lin, 0) @ w2.T.astype(np.float64) + b2}


X = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():  # tiny models: threads only contend on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def record(folder):
    return json.loads((folder / RECORD).read_text())


def assert_same(result, expected, rtol=1e-5, atol=1e-5):
    assert list(result) == list(expected)
    for layer in expected:
        np.testing.assert_allclose(result[layer], expected[layer], rtol=rtol, atol=atol)


def test_files_memmaps_and_values(tmp_path):
    model = Counted()
    out = extract_activations(model, X, ["out", "lin"], batch_size=3, out_dir=tmp_path / "run")
    assert list(out) == ["out", "lin"]
    memory = extract_activations(model, X, ["out", "lin"], batch_size=3)
    reference = manual(model, X)
    for layer in ("out", "lin"):
        assert (tmp_path / "run" / f"{layer}.npy").is_file()
        assert isinstance(out[layer], np.memmap) and not out[layer].flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            out[layer][0, 0] = 1
        np.testing.assert_array_equal(out[layer], memory[layer])
        np.testing.assert_array_equal(np.load(tmp_path / "run" / f"{layer}.npy"), memory[layer])
        np.testing.assert_allclose(out[layer], reference[layer], rtol=1e-5, atol=1e-5)
    assert record(tmp_path / "run")["complete"] is True
    assert not list((tmp_path / "run").glob("*.partial"))


def test_rerun_returns_without_running_the_model(tmp_path):
    model = Counted()
    first = extract_activations(model, X, ["lin", "out"], batch_size=4, out_dir=tmp_path)
    assert model.calls == 3
    model.calls = 0
    for batch_size in (4, 7):  # batch_size is not part of what the values depend on
        again = extract_activations(
            model, X, ["lin", "out"], batch_size=batch_size, out_dir=tmp_path
        )
        assert_same(again, first, rtol=0, atol=0)
    assert model.calls == 0


def make_stimuli(kind):
    if kind == "array":
        return X
    if kind == "dataset":
        return torch.utils.data.TensorDataset(torch.tensor(X), torch.arange(10))
    if kind == "loader":
        return torch.utils.data.DataLoader(torch.tensor(X), batch_size=3)
    if kind == "list":
        return [X[i : i + 3] for i in range(0, 10, 3)]
    return (torch.tensor(X[i : i + 3]) for i in range(0, 10, 3))


@pytest.mark.parametrize("kind", ["array", "dataset", "loader", "list", "generator"])
def test_resume_runs_only_the_remaining_batches(tmp_path, kind):
    model = Counted(fail_at=3)
    folder = tmp_path / "run"
    options = {"batch_size": 3, "pool": "max", "max_features": 8, "random_state": 5}
    with pytest.raises(RuntimeError, match="interrupted"):
        extract_activations(model, make_stimuli(kind), ["lin", "out"], out_dir=folder, **options)
    assert record(folder)["rows_done"] == 6 and record(folder)["complete"] is False
    # unfinished layers never carry the .npy name a reader would take for finished ones
    assert not list(folder.glob("*.npy"))
    if kind == "generator":  # unknown length: appended to raw files
        assert sorted(p.name for p in folder.glob("*partial")) == [
            "lin.npy.raw-partial",
            "out.npy.raw-partial",
        ]
    else:
        assert sorted(p.name for p in folder.glob("*partial")) == [
            "lin.npy.partial",
            "out.npy.partial",
        ]
    model.fail_at, model.calls = None, 0
    resumed = extract_activations(
        model, make_stimuli(kind), ["lin", "out"], out_dir=folder, **options
    )
    assert model.calls == 2  # stimuli 6..8 and 9
    assert not list(folder.glob("*partial")) and record(folder)["complete"] is True
    assert all(isinstance(v, np.memmap) for v in resumed.values())
    uninterrupted = extract_activations(Counted(), X, ["lin", "out"], **options)
    assert_same(resumed, uninterrupted, rtol=1e-6, atol=1e-6)
    reference = manual(model, X)
    matrix = projection_matrix(30, 8, layer_seed(5, "lin")).toarray()
    np.testing.assert_allclose(resumed["lin"], reference["lin"] @ matrix.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(resumed["out"], reference["out"], rtol=1e-5, atol=1e-5)


def test_resume_with_other_batches(tmp_path):
    model = Counted(fail_at=3)
    with pytest.raises(RuntimeError):
        extract_activations(model, X, "out", batch_size=3, out_dir=tmp_path / "a")
    model.fail_at, model.calls = None, 0
    out = extract_activations(model, X, "out", batch_size=4, out_dir=tmp_path / "a")
    assert model.calls == 1  # arrays resume at a row: stimuli 6..9 in one batch
    np.testing.assert_allclose(out["out"], manual(model, X)["out"], rtol=1e-5, atol=1e-5)
    model.fail_at, model.calls = 3, 0
    with pytest.raises(RuntimeError):
        extract_activations(
            model, iter([X[:3], X[3:6], X[6:9], X[9:]]), "out", out_dir=tmp_path / "b"
        )
    model.fail_at = None  # a batch across the resume point: an error, not a gap
    with pytest.raises(ValueError, match="straddles stimulus 6"):
        extract_activations(model, iter([X[:3], X[3:7], X[7:]]), "out", out_dir=tmp_path / "b")
    # a list is in memory: all of it is keyed, so other batches are other stimuli
    model.fail_at, model.calls = 3, 0
    with pytest.raises(RuntimeError):
        extract_activations(model, [X[:3], X[3:6], X[6:9], X[9:]], "out", out_dir=tmp_path / "c")
    model.fail_at = None
    with pytest.raises(ValueError, match="different stimuli"):
        extract_activations(model, [X[:3], X[3:7], X[7:]], "out", out_dir=tmp_path / "c")


def test_resume_with_a_drawn_seed_uses_the_recorded_one(tmp_path):
    model = Counted(fail_at=2)
    options = {"batch_size": 4, "max_features": 8, "out_dir": tmp_path}
    with pytest.raises(RuntimeError):
        extract_activations(model, X, "lin", **options)
    seed = record(tmp_path)["seed"]
    assert isinstance(seed, int)
    model.fail_at, model.calls = None, 0
    resumed = extract_activations(model, X, "lin", **options)
    assert model.calls == 2
    matrix = projection_matrix(30, 8, layer_seed(seed, "lin")).toarray()
    expected = manual(model, X)["lin"] @ matrix.T
    np.testing.assert_allclose(resumed["lin"], expected, rtol=1e-4, atol=1e-4)
    again = extract_activations(model, X, "lin", **options)
    np.testing.assert_array_equal(again["lin"], resumed["lin"])
    assert model.calls == 2


def test_generator_of_unknown_length(tmp_path):
    model = Counted()

    def batches():
        for i in range(0, 10, 4):
            yield torch.tensor(X[i : i + 4])

    out = extract_activations(model, batches(), ["out", "lin"], out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == ["lin.npy", "out.npy"]
    assert not list(tmp_path.glob("*.partial"))
    assert_same(out, {k: v for k, v in reversed(manual(model, X).items())})
    model.calls = 0
    again = extract_activations(model, batches(), ["out", "lin"], out_dir=tmp_path)
    assert model.calls == 0
    assert_same(again, out, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"layers": ["lin"]}, "layers"),
        ({"pool": "mean"}, "pool"),
        ({"stimuli": X + 1}, "stimuli"),
        ({"stimuli": X[:9]}, "stimuli"),
        ({"model": Counted(seed=1)}, "model"),
        ({"max_features": 3}, "max_features"),
        ({"random_state": 1}, "random_state"),
        ({"transform": lambda x: x * 2}, "transform"),
        ({"select": lambda o: o}, "select"),
        ({"channel_axis": -1}, "channel_axis"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
@pytest.mark.parametrize("complete", [True, False], ids=["complete", "interrupted"])
def test_other_arguments_in_the_same_folder_are_errors(tmp_path, change, argument, complete):
    base = {
        "model": Counted(fail_at=None if complete else 2),
        "stimuli": X,
        "layers": ["lin", "out"],
        "max_features": 2,
        "random_state": 0,
    }
    if not complete:
        with pytest.raises(RuntimeError):
            extract_activations(**base, batch_size=4, out_dir=tmp_path)
    else:
        extract_activations(**base, batch_size=4, out_dir=tmp_path)
    base["model"].fail_at = None
    changed = {**base, **change}
    with pytest.raises(ValueError, match=rf"another extraction \(different {argument}\)"):
        extract_activations(**changed, batch_size=4, out_dir=tmp_path)


def test_foreign_files_without_record_are_errors(tmp_path):
    np.save(tmp_path / "lin.npy", np.zeros((10, 30), np.float32))
    with pytest.raises(ValueError, match="lin.npy"):
        extract_activations(Counted(), X, ["lin"], out_dir=tmp_path)
    np.testing.assert_array_equal(np.load(tmp_path / "lin.npy"), 0)  # left untouched
    other = tmp_path / "other"
    other.mkdir()
    (other / "out.npy.partial").write_bytes(b"\0" * 12)
    with pytest.raises(ValueError, match="out.npy.partial"):
        extract_activations(Counted(), X, ["out"], out_dir=other)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        extract_activations(Counted(), X, ["out"], out_dir=tmp_path / "file")
    unrelated = tmp_path / "unrelated"  # files of other layers do not matter
    unrelated.mkdir()
    np.save(unrelated / "notes.npy", np.zeros(3))
    out = extract_activations(Counted(), X, ["out"], out_dir=unrelated)
    np.testing.assert_allclose(out["out"], manual(Counted(), X)["out"], rtol=1e-5, atol=1e-5)


def test_unreadable_record_is_an_error(tmp_path):
    (tmp_path / RECORD).write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        extract_activations(Counted(), X, ["out"], out_dir=tmp_path)


def test_verbose_shows_progress(capsys):
    out = extract_activations(Counted(), X, "lin", batch_size=4, verbose=True)
    assert out["lin"].shape == (10, 30)
    assert "extract_activations" in capsys.readouterr().err


def test_verbose_resume_shows_progress(tmp_path, capsys):
    model = Counted(fail_at=2)
    with pytest.raises(RuntimeError):
        extract_activations(model, X, "out", batch_size=5, out_dir=tmp_path, verbose=True)
    model.fail_at = None
    out = extract_activations(model, X, "out", batch_size=5, out_dir=tmp_path, verbose=True)
    assert out["out"].shape == (10, 3)
    assert "extract_activations" in capsys.readouterr().err


# -- checkpoints -----------------------------------------------------------------


def small():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_checkpoints(tmp_path, monkeypatch):
    saved = {}
    for epoch in (1, 2):
        torch.manual_seed(epoch)
        saved[f"epoch{epoch}"] = small().state_dict()
        torch.save(saved[f"epoch{epoch}"], tmp_path / f"epoch{epoch}.pt")
    calls = []
    load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or load(*a, **k))
    checkpoints = Checkpoints(small, [tmp_path / "epoch1.pt", tmp_path / "epoch2.pt"])
    assert list(checkpoints) == ["epoch1", "epoch2"] and len(checkpoints) == 2
    assert calls == []  # nothing loaded before asked for
    for name, state in saved.items():
        model = checkpoints[name]
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    assert calls and all(k.get("weights_only") is True for k in calls)
    with pytest.raises(KeyError, match="epoch3"):
        checkpoints["epoch3"]
    # a training checkpoint holding the state dict, named by a dict
    torch.save({"state_dict": saved["epoch2"], "epoch": 2}, tmp_path / "train.ckpt")
    named = Checkpoints(small, {"last": tmp_path / "train.ckpt"})
    assert list(named) == ["last"]
    weight = named["last"][2].weight.detach().numpy()
    np.testing.assert_array_equal(weight, saved["epoch2"]["2.weight"].numpy())
    # the loaded model's activations: a manual forward with the saved weights
    x, state = np.random.default_rng(2).standard_normal((5, 3)), saved["epoch2"]
    expected = np.maximum(x @ state["0.weight"].numpy().T + state["0.bias"].numpy(), 0)
    out = extract_activations(named["last"], x, "1")["1"]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


class NotAWeight:
    pass


def test_checkpoints_refuse_pickled_objects(tmp_path):
    torch.save({"0.weight": torch.zeros(4, 3), "extra": NotAWeight()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="weights_only"):
        Checkpoints(small, [tmp_path / "evil.pt"])["evil"]


def test_a_run_stopped_before_its_first_batch_leaves_a_reusable_folder(tmp_path):
    model = Counted(fail_at=1)
    with pytest.raises(RuntimeError):
        extract_activations(model, X, "out", batch_size=3, out_dir=tmp_path)
    assert record(tmp_path)["rows_done"] == 0
    model.fail_at = None  # other arguments are fine: nothing was written
    out = extract_activations(model, X, ["lin", "out"], batch_size=3, out_dir=tmp_path)
    np.testing.assert_allclose(out["out"], manual(model, X)["out"], rtol=1e-5, atol=1e-5)
