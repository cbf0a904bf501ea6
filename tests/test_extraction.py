"""extract_activations: layers, modes, hooks, stimuli, outputs, pooling, projection, errors.

Expected values: manual forward passes, numpy reductions, direct projections, scikit-learn.
"""

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from sklearn.random_projection import SparseRandomProjection  # noqa: E402

from skrep.extraction import extract_activations, resolve_layers  # noqa: E402
from skrep.extraction.projection import layer_seed, projection_matrix  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():  # tiny models: threads only contend on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class ConvNet(nn.Module):
    """Conv -> BatchNorm -> ReLU -> Dropout -> Linear, and a module forward never calls."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5)
        )
        self.head = nn.Linear(4 * 4 * 4, 5)
        self.unused = nn.Linear(2, 2)
        with torch.no_grad():  # running statistics that make eval differ from train
            self.features[1].running_mean.uniform_(-1, 1)
            self.features[1].running_var.uniform_(0.5, 2)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def make_net():
    torch.manual_seed(0)
    return ConvNet()


def manual(net, x):
    """Eval-mode activations, calling the submodules by hand."""
    x = torch.as_tensor(x, dtype=torch.float32)
    f = net.features
    with torch.no_grad():
        conv = f[0](x)
        bn = (conv - f[1].running_mean[:, None, None]) / torch.sqrt(
            f[1].running_var[:, None, None] + f[1].eps
        ) * f[1].weight[:, None, None] + f[1].bias[:, None, None]
        relu = torch.clamp(bn, min=0)
        head = relu.flatten(1) @ net.head.weight.T + net.head.bias
    out = {"features.0": conv, "features.1": bn, "features.2": relu, "features.3": relu}
    return {k: v.numpy() for k, v in {**out, "head": head}.items()}


IMAGES = np.random.default_rng(0).standard_normal((7, 3, 6, 6))


def no_hooks(model):
    return all(not m._forward_hooks for m in model.modules())


def flat(a):
    return a.reshape(len(a), -1)


# -- layers ------------------------------------------------------------------


def test_layer_names_patterns_groups_and_order():
    net = make_net()
    assert resolve_layers(net, "features.*") == [f"features.{i}" for i in range(4)]
    leaves = [f"features.{i}" for i in range(4)] + ["head", "unused"]
    assert resolve_layers(net, "leaves") == leaves
    assert resolve_layers(net, "all") == ["features", *leaves]
    nested = nn.ModuleDict({name: nn.Identity() for name in ("layer1", "layer2", "layer10")})
    assert resolve_layers(nested, "layer?") == ["layer1", "layer2"]
    out = extract_activations(net, IMAGES, ["head", "features.0"])
    assert list(out) == ["head", "features.0"]
    expected = manual(net, IMAGES)
    np.testing.assert_allclose(out["head"], expected["head"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["features.0"], flat(expected["features.0"]), atol=1e-6)


def test_unknown_layer_is_named_with_closest_first():
    with pytest.raises(ValueError, match="'feature.2'") as info:
        extract_activations(make_net(), IMAGES, ["head", "feature.2"])
    message = str(info.value)
    assert message.index("features.2") < message.index("unused")
    with pytest.raises(ValueError, match="'nothing.*'"):
        extract_activations(make_net(), IMAGES, "nothing.*")


# -- eval mode, train flags, hooks ---------------------------------------------


def test_eval_mode_outputs_and_flags_restored():
    net = make_net().train()
    out = extract_activations(net, IMAGES, ["features.*", "head"], batch_size=3)
    expected = manual(net, IMAGES)
    for layer in ("features.1", "features.2", "features.3"):  # BatchNorm, Dropout in eval
        np.testing.assert_allclose(out[layer], flat(expected[layer]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["head"], expected["head"], rtol=1e-5, atol=1e-5)
    assert all(m.training for m in net.modules()) and no_hooks(net)
    net.features[1].eval()  # mixed flags: each module gets its own back
    net.head.eval()
    flags = {name: m.training for name, m in net.named_modules()}
    again = extract_activations(net, IMAGES, "head", batch_size=4)
    assert {name: m.training for name, m in net.named_modules()} == flags
    with torch.no_grad():  # torch's own eval-mode forward
        reference = net.eval()(torch.as_tensor(IMAGES, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(again["head"], reference, rtol=1e-5, atol=1e-6)


class Flaky(nn.Module):
    def __init__(self, fail_at=2):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.2)
        self.calls, self.fail_at = 0, fail_at

    def forward(self, x):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("second batch fails")
        return self.drop(self.lin(x))


def test_hooks_removed_and_modes_restored_when_a_batch_raises():
    model = Flaky().train()
    x = torch.randn(6, 3)
    with pytest.raises(RuntimeError, match="second batch"):
        extract_activations(model, x, "all", batch_size=3)
    assert no_hooks(model) and model.training and model.drop.training
    model.calls = 0

    def transform(batch):
        raise KeyError("bad transform")

    with pytest.raises(KeyError, match="bad transform"):
        extract_activations(model, x, "lin", transform=transform)
    assert no_hooks(model) and model.training
    with pytest.raises(ValueError, match="non-finite"):
        extract_activations(model, x * float("nan"), "lin")
    assert no_hooks(model) and model.training


def test_runs_in_inference_mode():
    seen = []
    model = nn.Sequential(nn.Linear(3, 2))
    model[0].register_forward_hook(lambda m, i, o: seen.append(torch.is_inference_mode_enabled()))
    extract_activations(model, torch.randn(4, 3), "0", batch_size=2)
    assert seen == [True, True]


# -- stimuli -------------------------------------------------------------------


class Lin(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        return self.lin(x)


def lin_reference(model, x):
    x = np.asarray(x, dtype=np.float64)
    return (
        x @ model.lin.weight.detach().numpy().T.astype(np.float64) + model.lin.bias.detach().numpy()
    )


X = np.random.default_rng(3).standard_normal((10, 4))
Y = np.arange(10)


@pytest.mark.parametrize(
    "make_stimuli",
    [
        lambda: X,
        lambda: torch.tensor(X, dtype=torch.float32),
        lambda: torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y)),
        lambda: torch.utils.data.DataLoader(torch.tensor(X), batch_size=3, shuffle=False),
        lambda: [(X[i : i + 4], Y[i : i + 4]) for i in range(0, 10, 4)],
        lambda: (torch.tensor(X[i : i + 3]) for i in range(0, 10, 3)),
    ],
    ids=["numpy", "tensor", "dataset", "loader", "list", "generator"],
)
def test_stimuli_kinds(make_stimuli):
    model = Lin()
    out = extract_activations(model, make_stimuli(), "lin", batch_size=3)["lin"]
    assert out.shape == (10, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, lin_reference(model, X), rtol=1e-5, atol=1e-5)


def test_transform_per_batch_and_float64_cast():
    model, calls = Lin(), []

    def transform(batch):
        calls.append((batch.dtype, len(batch)))
        return batch * 2 + 1

    out = extract_activations(model, X, "lin", batch_size=4, transform=transform)["lin"]
    assert calls == [(torch.float64, 4), (torch.float64, 4), (torch.float64, 2)]
    np.testing.assert_allclose(out, lin_reference(model, X * 2 + 1), rtol=1e-5, atol=1e-5)


def test_integer_token_ids_are_kept():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(11, 5))
    ids = np.random.default_rng(0).integers(0, 11, (6, 4))
    out = extract_activations(model, ids, "0", batch_size=4)["0"]
    np.testing.assert_array_equal(out, flat(model[0].weight.detach().numpy()[ids]))


# -- outputs ---------------------------------------------------------------------


@dataclasses.dataclass
class Output:
    hidden: object
    logits: object


class Multi(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        a, b = x * 2, x + 1
        return {
            "tuple": lambda: (a, b),
            "list": lambda: [None, [a, b]],
            "dict": lambda: {"first": a, "second": b},
            "dataclass": lambda: Output(a, b),
        }[self.kind]()


@pytest.mark.parametrize(
    ("kind", "select"),
    [
        ("tuple", lambda o: o[1]),
        ("list", lambda o: o[1][1]),
        ("dict", {"0": lambda o: o["second"]}),
        ("dataclass", lambda o: o.logits),
    ],
    ids=["tuple", "list", "dict", "dataclass"],
)
def test_structured_outputs_first_tensor_or_select(kind, select):
    model, x = nn.Sequential(Multi(kind)), torch.randn(5, 2, 3)
    out = extract_activations(model, x, "0")["0"]
    np.testing.assert_allclose(out, flat(x.numpy() * 2))
    second = extract_activations(model, x, "0", select=select)["0"]
    np.testing.assert_allclose(second, flat(x.numpy() + 1))


class Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = Multi("tuple"), Multi("tuple")

    def forward(self, x):
        return self.b(self.a(x)[1])


def test_select_dict_per_layer():
    chain, x = Chain(), torch.randn(4, 3)
    out = extract_activations(chain, x, ["a", "b"], select={"b": lambda o: o[1]})
    np.testing.assert_allclose(out["a"], x.numpy() * 2)  # default: first tensor
    np.testing.assert_allclose(out["b"], x.numpy() + 2, rtol=1e-6, atol=1e-6)  # (x + 1) + 1
    with pytest.raises(ValueError, match="not extracted"):
        extract_activations(chain, x, ["a"], select={"c": lambda o: o[0]})


# -- pooling ---------------------------------------------------------------------


def conv_activation(module, x):
    with torch.no_grad():
        return module(x).numpy()


@pytest.mark.parametrize(
    ("layer", "shape", "axis"),
    [
        (nn.Conv2d(2, 3, 3), (5, 2, 6, 5), 1),
        (nn.Conv3d(2, 3, 2), (5, 2, 4, 3, 3), 1),
        (nn.Conv1d(2, 3, 3), (5, 2, 7), 1),
        (nn.Linear(2, 3), (5, 7, 2), 2),
    ],
    ids=["conv2d", "conv3d", "conv1d", "sequence"],
)
@pytest.mark.parametrize(
    ("pool", "reduce"),
    [
        ("mean", lambda a, d: a.mean(axis=d)),
        ("max", lambda a, d: a.max(axis=d)),
        (torch.amax, lambda a, d: a.max(axis=d)),
        (lambda x, dims: x.std(dims), lambda a, d: a.std(axis=d, ddof=1)),
    ],
    ids=["mean", "max", "amax", "std"],
)
def test_pool_default_channel_axis(layer, shape, axis, pool, reduce):
    torch.manual_seed(0)
    model = nn.Sequential(layer, nn.ReLU())
    x = torch.randn(*shape)
    a = conv_activation(layer, x)
    dims = tuple(d for d in range(1, a.ndim) if d != axis)
    out = extract_activations(model, x, ["0"], pool=pool, batch_size=2)["0"]
    np.testing.assert_allclose(out, reduce(a, dims), rtol=1e-5, atol=1e-6)
    if a.ndim == 4:  # a ReLU after a Conv2d keeps channels too
        relu = extract_activations(model, x, ["1"], pool=pool)["1"]
        np.testing.assert_allclose(relu, reduce(np.maximum(a, 0), dims), rtol=1e-5, atol=1e-6)
    flat_out = extract_activations(model, x, ["0"])["0"]
    np.testing.assert_allclose(flat_out, flat(a), rtol=1e-6, atol=1e-6)


def test_explicit_channel_axis_and_first_last():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Conv1d(2, 3, 3), nn.ReLU())
    x = torch.randn(4, 2, 5, 6)
    a = conv_activation(model[0], x)
    out = extract_activations(model[:1], x, "0", pool="mean", channel_axis=2)["0"]
    np.testing.assert_allclose(out, a.mean(axis=(1, 3)), rtol=1e-5, atol=1e-6)
    out = extract_activations(model[:1], x, "0", pool="max", channel_axis=-1)["0"]
    np.testing.assert_allclose(out, a.max(axis=(1, 2)), rtol=1e-5)
    seq = torch.randn(4, 2, 7)  # a ReLU after a Conv1d: channel_axis=1 must be passed
    c = np.maximum(conv_activation(model[1], seq), 0)
    chain = nn.Sequential(model[1], model[2])
    out = extract_activations(chain, seq, "1", pool="mean", channel_axis=1)["1"]
    np.testing.assert_allclose(out, c.mean(axis=2), rtol=1e-5, atol=1e-6)
    out = extract_activations(chain, seq, "1", pool="mean")["1"]
    np.testing.assert_allclose(out, c.mean(axis=1), rtol=1e-5, atol=1e-6)
    out = extract_activations(chain, seq, "1", pool="first")["1"]
    np.testing.assert_allclose(out, c[:, 0], rtol=1e-6)
    out = extract_activations(chain, seq, "0", pool="last")["0"]  # Conv1d: (N, C, L)
    np.testing.assert_allclose(out, conv_activation(model[1], seq)[:, :, -1], rtol=1e-6)
    for bad in (0, 4, -4):
        with pytest.raises(ValueError, match="channel_axis"):
            extract_activations(model[:1], x, "0", pool="mean", channel_axis=bad)
    with pytest.raises(ValueError, match="one axis"):
        extract_activations(model[:1], x, "0", pool="first")


# -- random projection -----------------------------------------------------------


@pytest.fixture
def wide_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 300), nn.Tanh(), nn.Linear(300, 5))
    x = torch.randn(11, 6)
    with torch.no_grad():
        wide = model[0](x).numpy().astype(np.float64)
        narrow = model[2](torch.tanh(model[0](x))).numpy()
    return model, x, wide, narrow


def test_projection_equals_direct_projection(wide_data):
    model, x, wide, narrow = wide_data
    outs = [
        extract_activations(model, x, ["0", "2"], max_features=20, random_state=7, batch_size=b)
        for b in (1, 3, 64)
    ]
    matrix = projection_matrix(300, 20, layer_seed(7, "0"))
    for out in outs:
        assert out["0"].shape == (11, 20) and out["0"].dtype == np.float32
        np.testing.assert_allclose(out["0"], wide @ matrix.T.toarray(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(out["2"], narrow, rtol=1e-5, atol=1e-6)  # narrower than k: as is
        np.testing.assert_allclose(out["0"], outs[0]["0"], rtol=1e-5, atol=1e-6)
    alone = extract_activations(model, x, ["0"], max_features=20, random_state=7)
    np.testing.assert_array_equal(alone["0"], outs[2]["0"])
    again = extract_activations(model, x, ["2", "0"], max_features=20, random_state=7)
    np.testing.assert_array_equal(again["0"], outs[2]["0"])
    other = extract_activations(model, x, ["0"], max_features=20, random_state=8)
    assert not np.allclose(other["0"], alone["0"])
    state = [np.random.RandomState(3), np.random.RandomState(3)]
    a, b = (extract_activations(model, x, "0", max_features=20, random_state=s) for s in state)
    np.testing.assert_array_equal(a["0"], b["0"])


def test_projection_scheme_matches_scikit_learn():
    n_features, k = 2500, 300
    ours = projection_matrix(n_features, k, 12345)
    sk = SparseRandomProjection(k, random_state=0).fit(np.zeros((2, n_features))).components_
    density = 1 / np.sqrt(n_features)
    assert ours.shape == sk.shape == (k, n_features)
    for matrix in (ours, sk):
        assert matrix.nnz / (k * n_features) == pytest.approx(density, rel=0.03)
        values = np.unique(np.abs(matrix.data))
        np.testing.assert_allclose(values, [np.sqrt(1 / density) / np.sqrt(k)])
        assert np.mean(matrix.data > 0) == pytest.approx(0.5, abs=0.02)
    ours.sum_duplicates()
    assert ours.nnz / (k * n_features) == pytest.approx(density, rel=0.03)
    # both preserve squared norms on average (E[M^T M] = I)
    x = np.random.default_rng(0).standard_normal((200, n_features))
    for matrix in (ours, sk):
        ratio = np.linalg.norm(x @ matrix.T.toarray(), axis=1) ** 2 / (x**2).sum(axis=1)
        assert ratio.mean() == pytest.approx(1, abs=0.03)


# -- bad input -------------------------------------------------------------------


class ShortDataset(torch.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return torch.ones(8, 4)[i]


def test_bad_input_errors():
    model = Lin()
    with pytest.raises(ValueError, match="no stimuli"):
        extract_activations(model, np.zeros((0, 4)), "lin")
    with pytest.raises(ValueError, match="no stimuli|0 rows"):
        extract_activations(model, [], "lin")
    with pytest.raises(ValueError, match="no batch|no stimuli"):
        extract_activations(model, (b for b in []), "lin")
    with pytest.raises(ValueError, match="__len__"):
        extract_activations(model, ShortDataset(), "lin", batch_size=4)
    loader = torch.utils.data.DataLoader(torch.tensor(X), sampler=range(5))
    with pytest.raises(ValueError, match="__len__"):
        extract_activations(model, loader, "lin")
    shuffled = torch.utils.data.DataLoader(torch.tensor(X), batch_size=3, shuffle=True)
    with pytest.raises(ValueError, match="shuffle"):
        extract_activations(model, shuffled, "lin")
    with pytest.raises(ValueError, match="'unused'.*did not run"):
        extract_activations(make_net(), np.zeros((2, 3, 6, 6)), ["head", "unused"])
    with pytest.raises(ValueError, match="batch_size"):
        extract_activations(model, X, "lin", batch_size=0)
    with pytest.raises(ValueError, match="pool"):
        extract_activations(model, X, "lin", pool="median")
    with pytest.raises(ValueError, match="max_features"):
        extract_activations(model, X, "lin", max_features=0)


class Log(nn.Module):
    def forward(self, x):
        return torch.log(x - 100)  # NaN everywhere


def test_non_finite_layer_and_stimuli_are_named():
    model = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.Identity()))
    x = torch.randn(6, 4)
    x[4, 1] = float("nan")
    # checked in the order the layers run: the first to give NaN is named, where it starts
    with pytest.raises(ValueError, match=r"layer '0' gave non-finite.*stimuli \[4\]"):
        extract_activations(model, x, ["1.0", "0"], batch_size=3)
    model = nn.Sequential(nn.Linear(4, 3), Log(), nn.Identity())
    with pytest.raises(ValueError, match=r"layer '1' gave non-finite.*stimuli \[0, 1, 2\]"):
        extract_activations(model, torch.randn(3, 4), ["0", "1", "2"])
    # with max_features: a NaN in a column that no row of the projection reads
    reads = abs(projection_matrix(300, 20, layer_seed(0, "0"))).sum(axis=0)
    wide = torch.randn(5, 300)
    wide[3, np.flatnonzero(np.asarray(reads).ravel() == 0)[0]] = float("nan")
    with pytest.raises(ValueError, match=r"layer '0' gave non-finite.*stimuli \[3\]"):
        extract_activations(
            nn.Sequential(nn.Identity()), wide, "0", max_features=20, random_state=0
        )


# -- device ----------------------------------------------------------------------


@needs_cuda
def test_cuda_model_runs_where_its_parameters_are():
    net = make_net()
    expected = extract_activations(net, IMAGES, ["features.2", "head"], pool="mean")
    net.cuda()
    out = extract_activations(net, IMAGES, ["features.2", "head"], pool="mean")
    assert next(net.parameters()).is_cuda
    for layer in expected:
        np.testing.assert_allclose(out[layer], expected[layer], rtol=1e-4, atol=1e-4)


@needs_cuda
def test_device_argument_moves_model_and_back(wide_data):
    model, x, wide, _ = wide_data
    out = extract_activations(model, x, "0", device="cuda", max_features=20, random_state=7)
    assert next(model.parameters()).device.type == "cpu" and no_hooks(model)
    matrix = projection_matrix(300, 20, layer_seed(7, "0"))
    np.testing.assert_allclose(out["0"], wide @ matrix.T.toarray(), rtol=1e-3, atol=1e-3)
