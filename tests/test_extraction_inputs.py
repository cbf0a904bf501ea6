"""More stimulus forms and argument checks of extract_activations.

A dict of arrays (a tokenizer's output) is batched row-wise and passed as
keyword arguments; loaders that draw at random, empty attention masks, bad
``select`` values and one-shot iterators for a cache key are refused.
"""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from torch.utils.data import (  # noqa: E402
    DataLoader,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

from skrep.extraction import extract_activations, extraction_cache_key  # noqa: E402


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(11, 4)
        self.proj = nn.Linear(4, 3)

    def forward(self, input_ids, attention_mask):
        return self.proj(self.embed(input_ids)) * attention_mask[..., None]


def tokens(n=7, length=5):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 11, (n, length))
    mask = np.ones((n, length), dtype=np.int64)
    mask[::2, 3:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def test_a_dict_of_arrays_is_batched_by_rows_and_passed_as_keywords():
    model, batch = Tokens(), tokens()
    for batch_size in (1, 3, 64):
        got = extract_activations(model, batch, "proj", pool="mean", batch_size=batch_size)
        with torch.no_grad():
            out = model.proj(model.embed(torch.as_tensor(batch["input_ids"]))).numpy()
        real = batch["attention_mask"].astype(bool)
        expected = np.stack([o[m].mean(axis=0) for o, m in zip(out, real, strict=True)])
        np.testing.assert_allclose(got["proj"], expected, rtol=1e-6, atol=1e-6)


def test_a_dict_of_arrays_with_other_lengths_is_an_error():
    batch = tokens()
    batch["attention_mask"] = batch["attention_mask"][:5]
    with pytest.raises(ValueError, match="different lengths"):
        extract_activations(Tokens(), batch, "proj", pool="mean")


def test_an_all_zero_mask_has_no_mean():
    batch = tokens()
    batch["attention_mask"][2] = 0
    with pytest.raises(ValueError, match="no real token"):
        extract_activations(Tokens(), batch, "proj", pool="mean")


@pytest.mark.parametrize(
    "sampler",
    [SubsetRandomSampler(range(6)), WeightedRandomSampler([1.0] * 6, 6)],
    ids=["subset", "weighted"],
)
def test_loaders_that_draw_at_random_are_refused(sampler):
    dataset = TensorDataset(torch.randn(6, 4))
    with pytest.raises(ValueError, match="at random"):
        extract_activations(
            nn.Sequential(nn.Linear(4, 2)), DataLoader(dataset, sampler=sampler), "0"
        )


def test_select_values_must_be_callables():
    net = nn.Sequential(nn.Linear(4, 2))
    with pytest.raises(TypeError, match=r"select\['0'\]"):
        extract_activations(net, np.zeros((3, 4)), "0", select={"0": "first"})
    with pytest.raises(TypeError, match="transform"):
        extract_activations(net, np.zeros((3, 4)), "0", transform={"0": abs})


def test_cache_key_refuses_one_shot_iterators_and_tells_stimuli_apart():
    net = nn.Sequential(nn.Linear(4, 2))
    X = np.random.default_rng(0).standard_normal((5, 4))
    with pytest.raises(TypeError, match="one-shot"):
        extraction_cache_key(net, iter([X]), "0")
    key = extraction_cache_key(net, X, "0")
    assert key == extraction_cache_key(net, X.copy(), "0")
    assert key != extraction_cache_key(net, X + 1, "0")
    assert key != extraction_cache_key(net, X, "0", pool="mean")
    assert extraction_cache_key(net, [X[:2], X[2:]], "0") != extraction_cache_key(
        net, [X[:2], X[2:] + 1], "0"
    )


def test_memory_mapped_stimuli_are_keyed_by_file_and_rows(tmp_path):
    net = nn.Sequential(nn.Linear(4, 2))
    path = tmp_path / "stimuli.npy"
    np.save(path, np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32))
    mapped = np.load(path, mmap_mode="r")
    key = extraction_cache_key(net, mapped, "0")
    assert key == extraction_cache_key(net, np.load(path, mmap_mode="r"), "0")
    assert extraction_cache_key(net, mapped[:20], "0") != extraction_cache_key(
        net, mapped[20:], "0"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read-only rows are copied, not warned about
        out = extract_activations(net, mapped, "0", out_dir=tmp_path / "out")
    with torch.no_grad():
        expected = net(torch.as_tensor(np.asarray(mapped))).numpy()
    np.testing.assert_allclose(out["0"], expected, rtol=1e-6)
    np.save(path, np.asarray(mapped) + 1)  # the file changes: another key
    assert extraction_cache_key(net, np.load(path, mmap_mode="r"), "0") != key


def test_an_edited_forward_is_another_model():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.lin = nn.Linear(4, 2)

        def forward(self, x):
            return self.lin(x) * 2

    first = Twice()

    def thrice(self, x):
        return self.lin(x) * 3

    X = np.zeros((3, 4))
    key = extraction_cache_key(first, X, "lin")
    Twice.forward = thrice  # the same class, parameters and repr; other code
    assert extraction_cache_key(first, X, "lin") != key
