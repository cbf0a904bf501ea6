"""benchmark_models: extraction once per model, then the layers x regions table."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr

torch = pytest.importorskip("torch")
pd = pytest.importorskip("pandas")

from sklearn.model_selection import KFold  # noqa: E402

from skrep import RSA, CKAEstimator, benchmark_layers, benchmark_models, best_layer_scores  # noqa: E402
from skrep.extraction import Checkpoints, extract_activations  # noqa: E402
from skrep.metrics import DataRDMs  # noqa: E402


def make_net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 6),
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((30, 1, 8, 8))
    responses = {"IT": rng.standard_normal((30, 7)), "V1": rng.standard_normal((30, 4))}
    return images, responses


def manual_layers(net, images):
    """Layer outputs by calling the submodules by hand."""
    x = torch.as_tensor(images, dtype=torch.float32)
    with torch.no_grad():
        conv = net[0](x)
        relu = net[1](conv)
        out = net[3](net[2](relu))
    return {"0": conv.mean(dim=(2, 3)).numpy(), "3": out.numpy()}


def test_table_equals_benchmark_layers_on_manual_activations(data):
    images, responses = data
    nets = {"a": make_net(0), "b": make_net(1)}
    metrics = {"cka": CKAEstimator(), "rsa": RSA()}
    table = benchmark_models(nets, images, responses, metrics, layers=["0", "3"], cv=3, pool="mean")
    assert list(table.columns) == [
        "model",
        "layer",
        "depth",
        "region",
        "metric",
        "split",
        "train_score",
        "test_score",
        "selection_score",
        "best_on_train",
    ]
    assert len(table) == 2 * 2 * 2 * 2 * 3
    for name, net in nets.items():
        expected = benchmark_layers(manual_layers(net, images), responses, metrics, cv=3)
        got = table[table["model"] == name].reset_index(drop=True)
        np.testing.assert_allclose(got["test_score"], expected["test_score"], atol=1e-6)
        np.testing.assert_allclose(got["train_score"], expected["train_score"], atol=1e-6)
        assert got["depth"].tolist() == [{"0": 0, "3": 1}[layer] for layer in got["layer"]]


def test_best_layer_scores_groups_by_model(data):
    images, responses = data
    table = benchmark_models(
        {"a": make_net(0), "b": make_net(1)},
        images,
        responses,
        {"cka": CKAEstimator()},
        layers=["0", "3"],
        cv=3,
        pool="mean",
    )
    best = best_layer_scores(table)
    assert len(best) == 2 * 2
    for (model, region), group in table[table["best_on_train"]].groupby(["model", "region"]):
        row = best[(best["model"] == model) & (best["region"] == region)]
        assert row["test_score"].item() == pytest.approx(group["test_score"].mean())


def test_same_splits_for_every_model(data):
    images, responses = data
    splits = list(KFold(3, shuffle=True, random_state=0).split(images))
    a = benchmark_models(
        [make_net(0), make_net(0)], images, responses, [RSA()], layers="3", cv=splits
    )
    assert set(a["model"]) == {"Sequential_0", "Sequential_1"}
    first, second = (a[a["model"] == m]["test_score"].to_numpy() for m in sorted(set(a["model"])))
    np.testing.assert_array_equal(first, second)


def test_cache_dir_reuses_features(data, tmp_path):
    images, responses = data
    net = make_net(0)
    calls = []
    net[3].register_forward_hook(lambda *args: calls.append(1))
    kwargs = dict(layers=["0", "3"], cv=3, pool="mean", cache_dir=tmp_path)
    first = benchmark_models({"a": net}, images, responses, [CKAEstimator()], **kwargs)
    n_calls = len(calls)
    second = benchmark_models({"a": net}, images, responses, [CKAEstimator()], **kwargs)
    assert len(calls) == n_calls  # nothing extracted again
    pd.testing.assert_frame_equal(first, second)
    with torch.no_grad():
        net[3].weight.add_(1.0)  # other parameters: another folder, extracted anew
    benchmark_models({"a": net}, images, responses, [CKAEstimator()], **kwargs)
    assert len(calls) > n_calls
    assert len(list(tmp_path.iterdir())) == 2


def test_checkpoints_are_loaded_per_model(data, tmp_path):
    images, responses = data
    files = []
    for seed in (0, 1):
        path = tmp_path / f"epoch{seed}.pt"
        torch.save(make_net(seed).state_dict(), path)
        files.append(path)
    checkpoints = Checkpoints(make_net, files)
    table = benchmark_models(checkpoints, images, responses, [RSA()], layers="3", cv=3)
    assert list(dict.fromkeys(table["model"])) == ["epoch0", "epoch1"]
    direct = benchmark_models({"epoch1": make_net(1)}, images, responses, [RSA()], layers="3", cv=3)
    np.testing.assert_allclose(
        table[table["model"] == "epoch1"]["test_score"], direct["test_score"], atol=1e-12
    )


def test_parallel_models_equal_serial(data):
    images, responses = data
    nets = {"a": make_net(0), "b": make_net(1)}
    serial = benchmark_models(nets, images, responses, [RSA()], layers="3", cv=3)
    parallel = benchmark_models(nets, images, responses, [RSA()], layers="3", cv=3, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_data_rdms_region(data):
    images, responses = data
    rng = np.random.default_rng(1)
    rdms = np.stack([squareform(pdist(rng.standard_normal((30, 5)))) for _ in range(3)])
    table = benchmark_models(
        {"a": make_net(0)}, images, {"IT": DataRDMs(rdms)}, [RSA()], layers="3", cv=3
    )
    layer = extract_activations(make_net(0), images, "3")["3"]
    for split, (_, test) in enumerate(KFold(3).split(images)):
        expected = np.mean(
            [
                spearmanr(
                    pdist(layer[test], "correlation"), squareform(R[np.ix_(test, test)])
                ).statistic
                for R in rdms
            ]
        )
        assert table.loc[table["split"] == split, "test_score"].item() == pytest.approx(expected)


def test_data_rdms_checks():
    with pytest.raises(ValueError, match="symmetric"):
        DataRDMs(np.arange(9.0).reshape(3, 3))
    with pytest.raises(ValueError, match="shape"):
        DataRDMs(np.zeros((2, 3, 4)))
    R = squareform(pdist(np.random.default_rng(0).standard_normal((5, 2))))
    sub = DataRDMs(R)[np.array([4, 0, 2])]
    np.testing.assert_array_equal(sub.rdms[0], R[np.ix_([4, 0, 2], [4, 0, 2])])
    X = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="5 stimuli"):
        RSA().fit(X, DataRDMs(R))


def test_bad_arguments(data):
    images, responses = data
    with pytest.raises(TypeError, match="out_dir"):
        benchmark_models({"a": make_net()}, images, responses, [RSA()], layers="3", out_dir="x")
    with pytest.raises(TypeError, match="unknown options"):
        benchmark_models({"a": make_net()}, images, responses, [RSA()], layers="3", poool="mean")
    with pytest.raises(TypeError, match="one-shot iterator"):
        benchmark_models([make_net(0), make_net(1)], iter([images]), responses, [RSA()], layers="3")
    with pytest.raises(ValueError, match="model 'b'"):
        benchmark_models(
            {"a": make_net(), "b": make_net()}, images, responses, [RSA()], layers={"a": "3"}
        )
    with pytest.raises(TypeError, match=r"models\['a'\]"):
        benchmark_models({"a": "not a model"}, images, responses, [RSA()], layers="3")
    with pytest.raises(ValueError, match="rows"):
        benchmark_models({"a": make_net()}, images[:20], responses, [RSA()], layers="3", cv=2)


@pytest.mark.slow  # starts a cluster whose workers import torch
def test_runs_on_a_dask_cluster(data, dask_client):
    distributed = pytest.importorskip("distributed")
    import joblib

    images, responses = data
    nets = {"a": make_net(0), "b": make_net(1)}
    serial = benchmark_models(nets, images, responses, [RSA()], layers="3", cv=3)
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config("dask"):
        on_dask = benchmark_models(nets, images, responses, [RSA()], layers="3", cv=3, n_jobs=2)
    assert stream.data, "no task ran on the cluster"
    pd.testing.assert_frame_equal(serial, on_dask)


def test_cv_labels_stratify_the_splits_for_a_probe():
    from sklearn.model_selection import StratifiedKFold

    from skrep.metrics import LinearProbe

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 10)  # sorted by class, as stimuli often are
    images = rng.standard_normal((40, 1, 8, 8)) + labels[:, None, None, None]
    kwargs = dict(layers="3", pool="mean", cv=4)
    probe = {"probe": LinearProbe(cv=None)}
    table = benchmark_models(
        {"a": make_net()}, images, {"label": labels[:, None]}, probe, cv_labels=labels, **kwargs
    )
    layer = extract_activations(make_net(), images, "3")["3"]
    expected = [
        LinearProbe(cv=None).fit(layer[train], labels[train]).score(layer[test], labels[test])
        for train, test in StratifiedKFold(4).split(layer, labels)
    ]
    np.testing.assert_allclose(table["test_score"], expected)
    with pytest.raises(ValueError, match="cv_labels"):
        benchmark_models(
            {"a": make_net()},
            images,
            {"label": labels[:, None]},
            probe,
            layers="3",
            cv=StratifiedKFold(4),
        )


def test_rdm_regions_need_rsa_before_any_extraction(data):
    images, _ = data
    rdm = squareform(pdist(np.random.default_rng(0).standard_normal((30, 3))))
    net = make_net()
    calls = []
    net.register_forward_hook(lambda *args: calls.append(1))
    with pytest.raises(TypeError, match=r"responses\['IT'\].*CKAEstimator"):
        benchmark_models(
            {"a": net}, images, {"IT": DataRDMs(rdm)}, {"cka": CKAEstimator()}, layers="3"
        )
    assert not calls


def test_cache_is_reused_by_parallel_workers(data, tmp_path):
    _, responses = data
    # 30 x 1 x 128 x 128 float32 (1.9 MB): joblib hands workers a temporary memory map
    stimuli = np.random.default_rng(2).standard_normal((30, 1, 128, 128)).astype(np.float32)

    def fresh():
        return {
            name: torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(8), *make_net(seed))
            for name, seed in (("a", 0), ("b", 1))
        }

    for n_jobs in (2, 2, 1):
        benchmark_models(
            fresh(),
            stimuli,
            responses,
            [RSA()],
            layers="4",
            cv=3,
            n_jobs=n_jobs,
            cache_dir=tmp_path,
        )
        assert len(list(tmp_path.iterdir())) == 2


class WithUnusedModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = make_net(0)
        self.unused = torch.nn.Linear(3, 3)  # defined, never called

    def forward(self, x):
        return self.net(x)


def test_groups_drop_modules_that_never_run_as_extraction_does(data):
    images, responses = data
    with pytest.warns(UserWarning, match="unused"):
        table = benchmark_models(
            {"a": WithUnusedModule()}, images, responses, [RSA()], layers="leaves", cv=3
        )
    assert set(table["layer"]) == {"net.0", "net.1", "net.2", "net.3"}
    assert table.groupby("layer")["depth"].first().to_dict() == {
        "net.0": 0,
        "net.1": 1,
        "net.2": 2,
        "net.3": 3,
    }
