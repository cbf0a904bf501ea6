"""Sequence models: dict batches as keyword arguments, token pooling under the attention mask.

A small transformer (an Embedding and a ``TransformerEncoder(batch_first=True)``
given ``src_key_padding_mask=~attention_mask``) is fed right- and left-padded
batches. The expected values are the masked reductions of the unpooled
activations or of a manual forward pass, and the real-world check: a padded
sequence's pooled features equal those of the same sequence run alone.
"""

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from skrep.extraction import extract_activations  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")


@pytest.fixture(autouse=True, scope="module")
def one_thread():  # tiny models: threads only contend on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


VOCAB, WIDTH = 13, 8
LENGTHS = [5, 3, 6, 1, 4]
LAYERS = ["embed", "encoder.layers.0", "encoder.layers.1", "encoder"]


class TinyEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(VOCAB, WIDTH)  # the padding id 0 has a nonzero embedding
        layer = nn.TransformerEncoderLayer(WIDTH, 2, 16, dropout=0.3, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)

    def forward(self, input_ids, attention_mask):
        hidden = self.embed(input_ids)
        return self.encoder(hidden, src_key_padding_mask=~attention_mask.bool())


def token_ids(seed=0):
    rng = np.random.default_rng(seed)
    return [torch.tensor(rng.integers(1, VOCAB, n)) for n in LENGTHS]


def padded(sequences, side="right", length=None):
    length = length or max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), length, dtype=torch.long)
    mask = torch.zeros(len(sequences), length, dtype=torch.long)
    for i, s in enumerate(sequences):
        where = slice(0, len(s)) if side == "right" else slice(length - len(s), length)
        ids[i, where], mask[i, where] = s, 1
    return {"input_ids": ids, "attention_mask": mask}


def manual(model, batch):
    """Every layer's output, calling the submodules by hand (eval mode)."""
    model.eval()
    pad = ~batch["attention_mask"].bool()
    with torch.no_grad():
        embed = model.embed(batch["input_ids"])
        first = model.encoder.layers[0](embed, src_key_padding_mask=pad)
        second = model.encoder.layers[1](first, src_key_padding_mask=pad)
    model.train()
    values = [embed, first, second, second]
    return {layer: value.numpy() for layer, value in zip(LAYERS, values, strict=True)}


def masked(a, mask, pool):
    """The reduction over real tokens of (N, T, D) activations, by hand."""
    rows = []
    for values, real in zip(a, np.asarray(mask, dtype=bool), strict=True):
        tokens = values[real]
        rows.append(
            {
                "mean": lambda t: t.mean(axis=0),
                "max": lambda t: t.max(axis=0),
                "first": lambda t: t[0],
                "last": lambda t: t[-1],
            }[pool](tokens)
        )
    return np.array(rows)


@pytest.fixture(scope="module")
def model():
    return TinyEncoder().train()  # dropout on: extraction must switch it off


@pytest.mark.parametrize("side", ["right", "left"])
def test_masked_pooling_equals_reduction_over_real_tokens(model, side):
    batch = padded(token_ids(), side)
    mask, n, t = batch["attention_mask"], len(LENGTHS), max(LENGTHS)
    unpooled = extract_activations(model, [batch], LAYERS)
    reference = manual(model, batch)
    for pool in ("mean", "max", "first", "last"):
        out = extract_activations(model, [batch], LAYERS, pool=pool)
        assert list(out) == LAYERS
        for layer in LAYERS:
            assert out[layer].shape == (n, WIDTH)
            by_hand = masked(unpooled[layer].reshape(n, t, WIDTH), mask, pool)
            np.testing.assert_allclose(out[layer], by_hand, rtol=1e-5, atol=1e-6)
            expected = masked(reference[layer], mask, pool)
            np.testing.assert_allclose(out[layer], expected, rtol=1e-4, atol=1e-5)
    assert model.training and all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("pool", ["mean", "max", "first", "last"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_padded_sequence_equals_the_sequence_alone(model, pool, side):
    sequences = token_ids(1)
    # two batches with different padded lengths, as a tokenizer gives them
    batches = [padded(sequences[:3], side, length=7), padded(sequences[3:], side)]
    out = extract_activations(model, batches, LAYERS, pool=pool)
    for i, sequence in enumerate(sequences):
        alone = padded([sequence])
        single = extract_activations(model, [alone], LAYERS, pool=pool)
        for layer in LAYERS:
            np.testing.assert_allclose(out[layer][i], single[layer][0], rtol=1e-5, atol=1e-5)


def test_dict_stimuli_as_dataset_loader_and_generator(model):
    batch = padded(token_ids(2))
    expected = extract_activations(model, [batch], ["encoder"], pool="mean")["encoder"]

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return len(LENGTHS)

        def __getitem__(self, i):
            return {key: value[i] for key, value in batch.items()}

    loader = torch.utils.data.DataLoader(Items(), batch_size=2)
    generator = ({k: v[i : i + 2] for k, v in batch.items()} for i in range(0, 5, 2))
    for stimuli in (Items(), loader, generator):
        out = extract_activations(model, stimuli, ["encoder"], pool="mean", batch_size=2)
        np.testing.assert_allclose(out["encoder"], expected, rtol=1e-5, atol=1e-6)


def test_dict_batch_is_passed_as_keyword_arguments():
    seen = []

    class Keywords(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, WIDTH)

        def forward(self, *args, **kwargs):
            seen.append((len(args), sorted(kwargs)))
            return self.embed(kwargs["input_ids"])

    batch = {"input_ids": torch.tensor([[1, 2, 3], [4, 5, 6]]), "token_type_ids": torch.zeros(2, 3)}
    model = Keywords()
    out = extract_activations(model, [batch], ["embed"], pool="mean")["embed"]
    assert seen == [(0, ["input_ids", "token_type_ids"])]
    # without an attention_mask every token counts
    expected = model.embed.weight.detach().numpy()[batch["input_ids"].numpy()].mean(axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_transform_of_a_dict_batch_and_float_mask(model):
    batch = padded(token_ids(3))
    float_batch = {**batch, "attention_mask": batch["attention_mask"].double()}
    out = extract_activations(model, [float_batch], ["encoder.layers.0"], pool="mean")
    expected = extract_activations(model, [batch], ["encoder.layers.0"], pool="mean")
    np.testing.assert_allclose(out["encoder.layers.0"], expected["encoder.layers.0"], atol=1e-6)

    def drop_last_token(inputs):
        return {key: value[:, :-1] for key, value in inputs.items()}

    cut = extract_activations(model, [batch], ["embed"], pool="mean", transform=drop_last_token)
    ids, mask = batch["input_ids"][:, :-1].numpy(), batch["attention_mask"][:, :-1].numpy()
    embedded = model.embed.weight.detach().numpy()[ids]
    np.testing.assert_allclose(cut["embed"], masked(embedded, mask, "mean"), rtol=1e-6)


@dataclasses.dataclass
class ModelOutput:
    last_hidden_state: object
    pooler_output: object


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)

    def forward(self, input_ids):
        hidden = self.embed(input_ids)
        return ModelOutput(hidden, hidden[:, 0])


class Wrapped(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = Backbone()

    def forward(self, input_ids, attention_mask):
        return self.body(input_ids)


def test_structured_output_of_a_sequence_model():
    model, batch = Wrapped(), padded(token_ids(4))
    embedded = model.body.embed.weight.detach().numpy()[batch["input_ids"].numpy()]
    mask = batch["attention_mask"].numpy()
    out = extract_activations(model, [batch], "body", pool="mean")["body"]
    np.testing.assert_allclose(out, masked(embedded, mask, "mean"), rtol=1e-6)
    pooled = extract_activations(model, [batch], "body", select=lambda o: o.pooler_output)
    np.testing.assert_allclose(pooled["body"], embedded[:, 0], rtol=1e-6)


class Embed(nn.Module):
    def __init__(self, embed):
        super().__init__()
        self.embed = embed

    def forward(self, input_ids, attention_mask):
        return self.embed(input_ids)


def test_a_sequence_without_real_tokens(model):
    batch = padded(token_ids())
    batch["attention_mask"][2] = 0
    for pool in ("first", "last"):
        with pytest.raises(ValueError, match="no real token"):
            extract_activations(Embed(model.embed), [batch], ["embed"], pool=pool)
    with pytest.raises(ValueError, match=r"non-finite.*stimuli \[2\]"):
        extract_activations(Embed(model.embed), [batch], ["embed"], pool="max")


class SequenceFirst(nn.Module):
    def forward(self, hidden):
        return hidden.transpose(0, 1)  # (T, N, D), as batch_first=False models return


def test_outputs_without_stimuli_first_or_with_varying_widths_are_errors(model):
    torch.manual_seed(0)
    chain = nn.Sequential(nn.Embedding(VOCAB, WIDTH), SequenceFirst())
    ids = torch.randint(1, VOCAB, (3, 5))
    with pytest.raises(ValueError, match="first axis"):
        extract_activations(chain, ids, "1", pool="mean")
    fixed = extract_activations(chain, ids, "1", pool="mean", select=lambda o: o.transpose(0, 1))
    embedded = chain[0].weight.detach().numpy()[ids.numpy()]
    np.testing.assert_allclose(fixed["1"], embedded.mean(axis=1), rtol=1e-6)
    sequences = token_ids()
    batches = [padded(sequences[:3], length=7), padded(sequences[3:])]
    with pytest.raises(ValueError, match="pass pool="):
        extract_activations(model, batches, ["encoder"])
