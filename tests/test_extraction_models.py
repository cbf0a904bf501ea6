"""Extraction on the shapes of real architectures, and the inputs users pass by mistake.

A bottleneck block that calls one ReLU three times (torchvision's ResNet),
transformer encoders whose ``out_proj`` never runs and whose layers sit in a
ModuleList, a position embedding without a stimulus axis, batch_first=False
sequence layers; uint8 images, bad devices, non-models, object arrays,
loaders that drop stimuli; the benchmark cache under parallel workers.
"""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from skrep.extraction import extract_activations, extraction_cache_key  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")


class Bottleneck(nn.Module):
    """One ReLU module called three times, on 4, 4 and 8 channels (as in ResNet)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1, self.conv2 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 4, 3, padding=1)
        self.conv3 = nn.Conv2d(4, 8, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.conv1(x))
        out = self.relu(self.conv2(out))
        return self.relu(self.conv3(out) + x)


def test_a_module_called_several_times_records_its_last_output():
    model, x = Bottleneck(), torch.randn(5, 8, 6, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = extract_activations(model, x, "leaves", pool="mean", batch_size=2)
    assert list(got) == ["conv1", "conv2", "conv3", "relu"]
    with torch.no_grad():
        last = model.relu(model.conv3(model.relu(model.conv2(model.relu(model.conv1(x))))) + x)
    np.testing.assert_allclose(got["relu"], last.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)


class Encoder(nn.Module):
    def __init__(self, batch_first=True):
        super().__init__()
        torch.manual_seed(0)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=batch_first)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.position = Position()

    def forward(self, x):
        return self.encoder(x + self.position(x))


class Position(nn.Module):
    """A learned position embedding: shape (1, T, D), no stimulus axis."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(1, 6, 8))

    def forward(self, x):
        return self.table[:, : x.shape[1]]


def test_all_and_leaves_drop_what_gives_no_row_per_stimulus():
    model, x = Encoder(), torch.randn(4, 6, 8)
    with pytest.warns(UserWarning, match=r"out_proj.*position|position.*out_proj"):
        got = extract_activations(model, x, "all", pool="mean")
    assert "encoder.layers" not in got  # a ModuleList has no forward of its own
    assert "position" not in got and not any(name.endswith("out_proj") for name in got)
    with torch.no_grad():
        model.eval()
        first = model.encoder.layers[0](x + model.position(x))
    np.testing.assert_allclose(
        got["encoder.layers.0"], first.mean(dim=1).numpy(), rtol=1e-5, atol=1e-6
    )
    with pytest.warns(UserWarning, match="out_proj"):
        leaves = extract_activations(model, x, "leaves", pool="mean")
    assert "encoder.layers.0.linear1" in leaves
    # named one by one, they are errors, not warnings
    with pytest.raises(ValueError, match="position"):
        extract_activations(model, x, ["position"], pool="mean")
    with pytest.raises(ValueError, match="did not run"):
        extract_activations(model, x, ["encoder.layers.0.self_attn.out_proj"])


def test_dropped_layers_stay_dropped_when_a_run_resumes(tmp_path):
    model, x = Encoder(), torch.randn(6, 6, 8)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError):
        extract_activations(
            model, x, "encoder.layers.0.*", batch_size=2, out_dir=tmp_path, transform=Fail(2)
        )
    resumed = extract_activations(
        model, x, "encoder.layers.0.*", batch_size=2, out_dir=tmp_path, transform=Fail(None)
    )
    assert not any(name.endswith("out_proj") for name in resumed)
    whole = extract_activations(model, x, "encoder.layers.0.*", batch_size=2)
    assert list(resumed) == list(whole)
    for name in whole:
        np.testing.assert_allclose(resumed[name], whole[name], rtol=1e-6)


class Fail:
    """A transform that raises on its n-th call (the same code for every n: one cache key)."""

    def __init__(self, at):
        self.at, self.calls = at, 0

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.at:
            raise RuntimeError("interrupted")
        return batch

    def __repr__(self):
        return "Fail()"

    def __reduce__(self):
        return (Fail, (None,))


def test_batch_first_false_layers_are_refused_without_select():
    model, x = Encoder(batch_first=False), torch.randn(6, 6, 8)  # N == T: no shape error
    with pytest.raises(ValueError, match="batch_first=False.*select="):
        extract_activations(model, x.transpose(0, 1), ["encoder.layers.0"], pool="mean")
    got = extract_activations(
        model,
        x.transpose(0, 1),
        ["encoder.layers.0"],
        pool="mean",
        select={"encoder.layers.0": lambda output: output.transpose(0, 1)},
        batch_size=6,
    )
    model.eval()
    with torch.no_grad():
        xt = x.transpose(0, 1)
        first = model.encoder.layers[0](xt + model.position(xt)).transpose(0, 1)
    np.testing.assert_allclose(got["encoder.layers.0"], first.mean(dim=1).numpy(), rtol=1e-5)


def test_uint8_images_are_cast_to_the_parameter_dtype():
    net = nn.Sequential(nn.Conv2d(3, 2, 3))
    images = np.random.default_rng(0).integers(0, 256, (4, 3, 5, 5), dtype=np.uint8)
    got = extract_activations(net, images, "0", pool="mean")["0"]
    with torch.no_grad():
        expected = net(torch.as_tensor(images, dtype=torch.float32)).mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"device": "gpu"}, ValueError, "'device' parameter of extract_activations.*'gpu'"),
        ({"model": lambda x: x}, TypeError, "model must be a torch.nn.Module"),
        ({"stimuli": np.array([["a"], ["b"]], dtype=object)}, TypeError, "dtype object"),
        (
            {"stimuli": DataLoader(TensorDataset(torch.randn(7, 4)), batch_size=3, drop_last=True)},
            ValueError,
            "drop_last",
        ),
    ],
)
def test_inputs_given_by_mistake(kwargs, error, match):
    arguments = {"model": nn.Sequential(nn.Linear(4, 2)), "stimuli": np.zeros((3, 4))}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        extract_activations(arguments.pop("model"), arguments.pop("stimuli"), "0", **arguments)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is there")
def test_cuda_without_cuda_is_named():
    with pytest.raises(ValueError, match="device.*no CUDA device"):
        extract_activations(nn.Sequential(nn.Linear(4, 2)), np.zeros((3, 4)), "0", device="cuda")


def test_tensor_datasets_are_keyed_by_every_value():
    net, x = nn.Sequential(nn.Linear(4, 2)), torch.randn(10, 4)
    y = x.clone()
    y[3:7] = torch.randn(4, 4)  # same first and last items
    assert extraction_cache_key(net, TensorDataset(x), "0") != extraction_cache_key(
        net, TensorDataset(y), "0"
    )
    assert extraction_cache_key(net, TensorDataset(x), "0", stimuli_key="mine") == (
        extraction_cache_key(net, TensorDataset(y), "0", stimuli_key="mine")
    )
