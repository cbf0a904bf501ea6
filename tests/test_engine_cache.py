"""The engine's store of finished blocks: checked on read, locked while computed, shared."""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import joblib
import numpy as np
import pytest

from skrep import LinearMetric, layer_similarity, pairwise_distances
from skrep.engine import BlockStore, BlockTask
from skrep.engine import cache as cache_module
from skrep.exceptions import CacheWarning


def networks(seed=0, k=6, n=30, p=4):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, p))
    return [
        base @ rng.standard_normal((p, p)) + 0.3 * rng.standard_normal((n, p)) for _ in range(k)
    ]


class CountingMetric(LinearMetric):
    """Records each block it computes and each network it prepares (class-level lists)."""

    blocks = []
    prepared = []

    def pairwise_prepare(self, X, X_test, name, test_name):
        CountingMetric.prepared.append(name)
        return super().pairwise_prepare(X, X_test, name, test_name)

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        CountingMetric.blocks.append(len(pairs))
        return super().pairwise_block(nets_a, nets_b, pairs, same_block=same_block)


@pytest.fixture
def counting():
    CountingMetric.blocks, CountingMetric.prepared = [], []
    yield CountingMetric
    CountingMetric.blocks, CountingMetric.prepared = [], []


def block_files(directory):
    return sorted(directory.rglob("block-*.npz"))


def test_a_fully_cached_run_reads_blocks_and_prepares_nothing(tmp_path, counting):
    Xs = networks()
    expected = pairwise_distances(LinearMetric(alpha=0.5), Xs, Xs)
    first = pairwise_distances(counting(alpha=0.5), Xs, Xs, cache_dir=tmp_path, block_size=2)
    assert sum(counting.blocks) == 15 and len(counting.prepared) == 6
    counting.blocks, counting.prepared = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on a healthy cache
        again = pairwise_distances(counting(alpha=0.5), Xs, Xs, cache_dir=tmp_path, block_size=2)
    assert counting.blocks == [] and counting.prepared == []
    for got in (first, again):
        np.testing.assert_allclose(got[0], expected[0], atol=1e-13)
        np.testing.assert_allclose(got[1], expected[1], atol=1e-13)
    assert not list(tmp_path.rglob("*.lock")) and not list(tmp_path.rglob("*.tmp"))


def test_a_block_copied_over_another_is_detected_and_recomputed(tmp_path, counting):
    Xs = networks()
    expected, _ = pairwise_distances(LinearMetric(), Xs)
    pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
    files = block_files(tmp_path)
    assert len(files) == 6  # 3 blocks of 2 networks: 3 * 4 / 2 pairs of blocks
    victim = files[1]
    victim.write_bytes(files[2].read_bytes())  # a valid file, but another block's
    counting.blocks = []
    with pytest.warns(CacheWarning, match=rf"{victim.name}.*holds another block"):
        D, _ = pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
    np.testing.assert_allclose(D, expected, atol=1e-13)
    assert len(counting.blocks) == 1  # only that block was computed again
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and it was stored back correctly
        np.testing.assert_allclose(
            pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=2)[0],
            expected,
            atol=1e-13,
        )


def test_a_truncated_file_gives_one_warning_and_no_traceback(tmp_path, counting, capsys):
    Xs = networks()
    expected, _ = pairwise_distances(LinearMetric(), Xs)
    pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
    victim = block_files(tmp_path)[0]
    victim.write_bytes(victim.read_bytes()[:100])
    counting.blocks = []
    with pytest.warns(CacheWarning, match="cannot be read") as record:
        D, _ = pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
    assert len([w for w in record if issubclass(w.category, CacheWarning)]) == 1
    np.testing.assert_allclose(D, expected, atol=1e-13)
    assert len(counting.blocks) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_changed_values_fail_the_checksum(tmp_path):
    Xs = networks()
    expected, _ = pairwise_distances(LinearMetric(), Xs)
    pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=2)
    victim = block_files(tmp_path)[0]
    with np.load(victim) as stored:
        contents = {name: stored[name] for name in stored.files}
    contents["train"] = contents["train"] + 0.5  # plausible numbers, same shape and metadata
    np.savez(victim, **contents)
    with pytest.warns(CacheWarning, match="checksum"):
        D, _ = pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=2)
    np.testing.assert_allclose(D, expected, atol=1e-13)


def test_other_data_parameters_or_layouts_do_not_share_blocks(tmp_path, counting):
    Xs = networks()
    pairwise_distances(counting(alpha=1.0), Xs, cache_dir=tmp_path, block_size=2)
    for metric, data, size in (
        (counting(alpha=0.5), Xs, 2),
        (counting(alpha=1.0), networks(seed=1), 2),
        (counting(alpha=1.0), Xs, 3),
    ):
        counting.blocks = []
        D, _ = pairwise_distances(metric, data, cache_dir=tmp_path, block_size=size)
        assert sum(counting.blocks) == 15
        np.testing.assert_allclose(
            D, pairwise_distances(LinearMetric(alpha=metric.alpha), data)[0], atol=1e-13
        )


def test_an_interrupted_run_leaves_no_lock(tmp_path):
    class Interrupting(LinearMetric):
        def pairwise_block(self, *args, **kwargs):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pairwise_distances(Interrupting(), networks(), cache_dir=tmp_path, block_size=2)
    assert not list(tmp_path.rglob("*.lock"))


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _job_store(tmp_path, Xs):
    """The folder of a CountingMetric job, made by running it once."""
    pairwise_distances(CountingMetric(), Xs, cache_dir=tmp_path, block_size=2)
    CountingMetric.blocks, CountingMetric.prepared = [], []
    (job,) = [path for path in tmp_path.iterdir() if path.is_dir()]
    return job


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, counting):
    Xs = networks()
    job = _job_store(tmp_path, Xs)
    victim = block_files(job)[0]
    victim.unlink()
    lock = victim.with_suffix(".lock")
    machine = json.dumps(cache_module._this_machine())
    lock.write_text(f'{{"machine": {machine}, "pid": {_dead_pid()}, "token": "x"}}')
    D, _ = pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
    assert len(counting.blocks) == 1
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(), Xs)[0], atol=1e-13)
    assert not lock.exists()


def test_a_block_locked_by_a_live_run_is_waited_for(tmp_path, counting):
    Xs = networks()
    job = _job_store(tmp_path, Xs)
    victim = block_files(job)[0]
    victim.unlink()
    lock = victim.with_suffix(".lock")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        machine = json.dumps(cache_module._this_machine())
        lock.write_text(f'{{"machine": {machine}, "pid": {holder.pid}, "token": "x"}}')
        # The "other run" gives up without a result after a moment: the block is computed here.
        threading.Timer(0.5, lock.unlink).start()
        started = time.monotonic()
        D, _ = pairwise_distances(counting(), Xs, cache_dir=tmp_path, block_size=2)
        assert time.monotonic() - started >= 0.4  # it waited for the lock
    finally:
        holder.kill()
        holder.wait()
    assert len(counting.blocks) == 1
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(), Xs)[0], atol=1e-13)


def test_a_stale_heartbeat_is_abandoned_by_the_observers_clock(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    store = BlockStore(tmp_path, "key")
    task = BlockTask((0, 0), (0, 1), (0, 1), ((0, 1),), True)
    claim = store.claim(task)
    assert claim is not None and store.claim(task) is None and store.is_claimed(task)
    lock = store.path(task).with_suffix(".lock")
    # Held by a run on another machine, whose clock may be anything.
    lock.write_text('{"machine": "another-machine", "pid": 1, "token": "theirs"}')
    os.utime(lock, (0, 0))  # an mtime from a clock far behind: not a reason on its own
    assert store.is_claimed(task)
    clock[0] += cache_module.STALE_AFTER_SECONDS / 2
    os.utime(lock, (5, 5))  # a heartbeat
    assert store.is_claimed(task)
    clock[0] += 0.9 * cache_module.STALE_AFTER_SECONDS
    assert store.is_claimed(task)  # less than STALE_AFTER since the last heartbeat
    clock[0] += 0.2 * cache_module.STALE_AFTER_SECONDS
    assert not store.is_claimed(task)  # no heartbeat for longer: abandoned
    taken = store.claim(task)
    assert taken is not None and json.loads(lock.read_text())["token"] == taken.token
    claim.release()  # the first claim lost its lock: releasing it leaves the new one
    assert lock.exists()
    taken.release()
    assert not lock.exists()


def test_damaged_files_of_every_kind_warn_once(tmp_path):
    Xs = networks()
    expected, _ = pairwise_distances(LinearMetric(), Xs)
    pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=2)
    files = block_files(tmp_path)
    np.save(files[0].with_suffix(".npy"), np.zeros(3))
    files[0].with_suffix(".npy").rename(files[0])  # a .npy where a block should be
    with np.load(files[1]) as stored:
        contents = {k: stored[k] for k in stored.files if k != "has_test"}
    np.savez(files[1], **contents)  # a field missing
    with pytest.warns(CacheWarning) as record:
        D, _ = pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=2)
    assert len([w for w in record if issubclass(w.category, CacheWarning)]) == 2
    np.testing.assert_allclose(D, expected, atol=1e-13)


def test_a_cache_that_cannot_be_written_warns_and_still_returns(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", refuse)
    Xs = networks()
    with pytest.warns(CacheWarning, match="Could not store"):
        D, _ = pairwise_distances(LinearMetric(), Xs, cache_dir=tmp_path, block_size=3)
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(), Xs)[0], atol=1e-13)


def test_three_runs_sharing_a_cache_compute_each_block_once(tmp_path):
    data = tmp_path / "networks.npy"
    np.save(data, np.stack(networks(k=10)))
    log = tmp_path / "computed.log"
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import os, time
        import numpy as np
        from skrep import LinearMetric, layer_similarity, pairwise_distances

        class Slow(LinearMetric):
            def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
                with open({str(log)!r}, "a") as f:
                    f.write("x\\n")
                time.sleep(0.15)
                return super().pairwise_block(nets_a, nets_b, pairs, same_block=same_block)

        D, _ = pairwise_distances(Slow(), np.load({str(data)!r}), cache_dir={str(cache)!r},
                                  block_size=2)
        print(repr(float(D.sum())))
        """
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    n_blocks = 15  # 5 blocks of 2 networks: 5 * 6 / 2 pairs of blocks
    assert log.read_text().count("x") == n_blocks
    expected, _ = pairwise_distances(LinearMetric(), np.load(data))
    for output in outputs:
        assert float(output) == pytest.approx(expected.sum(), abs=1e-10)


def test_reruns_with_other_workers_find_the_same_blocks(tmp_path, counting):
    Xs = networks(k=8)
    pairwise_distances(counting(), Xs, cache_dir=tmp_path)  # block size from working_memory
    assert counting.blocks
    counting.blocks = []
    with joblib.parallel_config(backend="threading"):
        D, _ = pairwise_distances(counting(), Xs, cache_dir=tmp_path, n_jobs=2)
    assert counting.blocks == []
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(), Xs)[0], atol=1e-13)


def test_functions_are_keyed_by_their_code(tmp_path):
    layers = networks(k=3)
    first = layer_similarity(
        lambda A, B: float(np.mean(A) - np.mean(B)), layers, cache_dir=tmp_path
    )
    changed = layer_similarity(
        lambda A, B: float(np.mean(A) + np.mean(B)), layers, cache_dir=tmp_path
    )
    assert not np.allclose(first, changed)  # another body: another key, not the old values
    again = layer_similarity(
        lambda A, B: float(np.mean(A) - np.mean(B)), layers, cache_dir=tmp_path
    )
    np.testing.assert_array_equal(again, first)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2  # the same code: reused


def test_unhashable_parameters_run_without_the_cache(tmp_path):
    lock = threading.Lock()  # cannot be pickled, so it cannot be hashed

    def uses_a_lock(A, B, lock=lock):
        return float(np.mean(A) - np.mean(B))

    with pytest.warns(CacheWarning, match="cannot be hashed"):
        result = layer_similarity(uses_a_lock, networks(k=2), cache_dir=tmp_path)
    assert result.shape == (2, 2) and not list(tmp_path.rglob("block-*"))
