"""Time and memory of skrep.extraction.extract_activations against a bare forward loop.

Run by hand on a quiet machine (``python benchmarks/bench_extraction.py``;
``--quick`` for a smoke run); results are printed and appended to
``benchmarks/results/bench_extraction.txt``. Two measurements:

1. **Throughput** (CPU). A small CNN (4 convolutions, stride 2, 3 x 64 x 64
   input) on 2,000 images in batches of 64. ``bare``: a loop of ``model(x)``
   over the same batches (``torch.from_numpy`` of each slice, inference mode,
   eval mode, outputs dropped). ``hooks``: the floor of recording, hand-written
   forward hooks that copy every convolution's flattened output into numpy
   arrays allocated for the run. ``extract``: ``extract_activations(model,
   images, "conv*")`` with ``pool=None`` and ``pool="mean"``, in memory and with
   ``out_dir`` (a new folder per run, as ``skrep extract`` does; removing it is
   not timed), hooks, checks and copies included. All are timed in turn, best
   of ``--repeats`` (3) after a warm-up, in wall and process CPU seconds; the
   target is ``extract / bare <= 1.3``. ``--threads`` (default 1) sets torch's
   intra-op threads: on a shared machine, multi-threaded wall times vary
   twofold between runs (a descheduled OpenMP thread stalls the others),
   single-threaded CPU times much less.
   Before each timed call, 1 GiB is touched and freed, so that the pages a run
   allocates for its output come from the (guest) kernel's free lists, as on a
   physical machine: on a virtual machine that hands freed memory back to its
   host (free page reporting, a few seconds after it is freed), the first touch
   of those pages costs several times more and lands on whichever variant runs
   after an idle moment. A reference line times numpy alone writing the batches
   into a new array of the pool=None output's size, warm as above and after 3 s
   idle (cold), and into the same array again (no page faults).
2. **Peak memory.** A layer of 1,000,000 features (a 1 x 1 convolution giving
   16 x 250 x 250) on 256 stimuli in batches of 32, with ``max_features=4096``
   and ``out_dir`` (the output is a 4 MiB memory map), against the bare forward
   loop on the same batches. Each runs ``--repeats`` times, in a fresh process
   that builds the model and stimuli, runs one warm-up forward pass, resets the
   kernel's peak resident set (``/proc/self/clear_refs``, else ``ru_maxrss`` of
   the fresh process) and reports the peak minus the resident set before the
   call (torch's allocations are invisible to tracemalloc); the extraction's
   peak varies between processes, so min/median/max are reported. The target:
   extraction peaks less than two batches of the layer (2 x 32 x 1e6 x 4 B =
   244 MiB) plus the projected output (256 x 4096 x 4 B = 4 MiB) above the bare
   loop.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from bench_linear import append_results, header_lines

RESULTS = Path(__file__).parent / "results" / "bench_extraction.txt"
MIB = 2**20


def small_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = []
    channels = [3, 32, 64, 128, 256]
    for index, (c_in, c_out) in enumerate(zip(channels, channels[1:], strict=False)):
        layers += [(f"conv{index + 1}", nn.Conv2d(c_in, c_out, 3, stride=2, padding=1))]
        layers += [(f"relu{index + 1}", nn.ReLU())]
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]
    layers += [("fc", nn.Linear(channels[-1], 100))]
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(layers)).eval()


def bare_loop(model, stimuli, batch_size):
    import torch

    with torch.inference_mode():
        for start in range(0, len(stimuli), batch_size):
            model(torch.from_numpy(stimuli[start : start + batch_size]))


def hook_loop(model, stimuli, batch_size, layers):
    """Forward hooks copying each layer's flattened output into preallocated arrays."""
    import torch

    modules = dict(model.named_modules())
    outputs, state = {}, {"row": 0}

    def hook(name):
        def record(module, inputs, output):
            flat = output.reshape(output.shape[0], -1).numpy()
            if name not in outputs:
                outputs[name] = np.empty((len(stimuli), flat.shape[1]), flat.dtype)
            outputs[name][state["row"] : state["row"] + len(flat)] = flat

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    try:
        with torch.inference_mode():
            for start in range(0, len(stimuli), batch_size):
                state["row"] = start
                model(torch.from_numpy(stimuli[start : start + batch_size]))
    finally:
        for handle in handles:
            handle.remove()
    return outputs


_FOLDERS = []


def warm_pages(n_bytes=2**30):
    """Remove earlier out_dir folders, then touch and free ``n_bytes`` (see the docstring)."""
    while _FOLDERS:
        shutil.rmtree(_FOLDERS.pop())
    np.ones(n_bytes // 8)


def best_times(functions, repeats, before=warm_pages):
    """Best wall and CPU times of each function, timed in turn (after one warm-up call each)."""
    for function in functions.values():
        function()
    best = {name: [float("inf"), float("inf")] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            gc.collect()
            before()
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    return best


def write_batches(n_rows, width, batch_size, target=None):
    """numpy alone: batches of a (batch, width) array written into a new (or given) array."""
    source = np.ones((batch_size, width), np.float32)
    target = np.empty((n_rows, width), np.float32) if target is None else target
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        target[start:stop] = source[: stop - start]
    return target


def extract_to_new_folder(model, stimuli, batch_size, pool):
    from skrep.extraction import extract_activations

    folder = tempfile.mkdtemp(prefix="bench_extraction_")
    _FOLDERS.append(folder)  # removed by warm_pages, before the next timed call
    extract_activations(model, stimuli, "conv*", batch_size=batch_size, pool=pool, out_dir=folder)


def throughput_section(args):
    import torch

    from skrep.extraction import extract_activations

    model = small_cnn()
    n_images = 400 if args.quick else 2000
    stimuli = np.random.default_rng(0).standard_normal((n_images, 3, 64, 64), dtype=np.float32)
    layers = [f"conv{i}" for i in range(1, 5)]
    batch = args.batch_size
    functions = {
        "bare": lambda: bare_loop(model, stimuli, batch),
        "hooks": lambda: hook_loop(model, stimuli, batch, layers),
        "extract": lambda: extract_activations(model, stimuli, "conv*", batch_size=batch),
        "mean": lambda: extract_activations(model, stimuli, "conv*", batch_size=batch, pool="mean"),
        "disk": lambda: extract_to_new_folder(model, stimuli, batch, None),
        "disk_mean": lambda: extract_to_new_folder(model, stimuli, batch, "mean"),
    }
    # Same values as the hand-written hooks (pool=None).
    expected = hook_loop(model, stimuli[:batch], batch, layers)
    got = extract_activations(model, stimuli[:batch], "conv*", batch_size=batch)
    same = all(np.array_equal(expected[name], got[name]) for name in layers)
    widths = {name: got[name].shape[1] for name in layers}
    best = best_times(functions, args.repeats)
    warm_pages(0)
    width = sum(widths.values())
    reused = np.empty((n_images, width), np.float32)
    numpy_only = best_times(
        {
            "new": lambda: write_batches(n_images, width, batch),
            "same": partial(write_batches, n_images, width, batch, reused),
        },
        args.repeats,
    )
    cold = best_times(
        {"cold": lambda: write_batches(n_images, width, batch)},
        args.repeats,
        before=partial(time.sleep, 3),
    )
    mib = n_images * width * 4 / MIB
    lines = [
        f"# throughput: small CNN, {n_images} images 3x64x64 float32, batch {batch}, torch "
        f"threads {torch.get_num_threads()}, recording "
        f"{', '.join(f'{k} ({v})' for k, v in widths.items())}: {mib:.0f} MiB of activations "
        f"with pool=None; best of {args.repeats}; same values as the hooks: {same}",
        f"{'seconds':>9} " + " ".join(f"{name:>9}" for name in functions),
    ]
    for index, label in enumerate(("wall", "cpu")):
        lines.append(f"{label:>9} " + " ".join(f"{t[index]:>9.3f}" for t in best.values()))
        lines.append(
            f"{label + '/bare':>9} "
            + " ".join(f"{t[index] / best['bare'][index]:>9.2f}" for t in best.values())
        )
    lines.append(
        f"# numpy alone, batches into a {mib:.0f} MiB array (wall / cpu s): new array "
        f"{numpy_only['new'][0]:.3f} / {numpy_only['new'][1]:.3f}, new array after 3 s idle "
        f"{cold['cold'][0]:.3f} / {cold['cold'][1]:.3f}, same array again "
        f"{numpy_only['same'][0]:.3f} / {numpy_only['same'][1]:.3f}"
    )
    for line in lines:
        print(line, flush=True)
    return lines


def _status_mib(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def memory_child(mode, n_stimuli, batch_size, max_features):
    """In a fresh process: peak resident memory of one run above the memory before it."""
    import scipy.sparse  # noqa: F401 - imported by the projection; not part of the peak
    import torch

    from skrep.extraction import extract_activations

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 1)).eval()
    stimuli = np.random.default_rng(0).standard_normal((n_stimuli, 1, 250, 250), np.float32)
    bare_loop(model, stimuli[:1], 1)  # torch's one-time allocations
    with tempfile.TemporaryDirectory() as folder:
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")  # peak resident set := current
            before, how = _status_mib("VmRSS"), "VmHWM"
        except OSError:
            before, how = _status_mib("VmRSS"), "ru_maxrss"
        start = time.perf_counter()
        if mode == "bare":
            bare_loop(model, stimuli, batch_size)
        else:
            out = extract_activations(
                model,
                stimuli,
                "0",
                batch_size=batch_size,
                max_features=max_features,
                random_state=0,
                out_dir=folder,
            )
            assert out["0"].shape == (n_stimuli, max_features), out["0"].shape
            del out
        seconds = time.perf_counter() - start
        if how == "VmHWM":
            peak = _status_mib("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"increase": peak - before, "before": before, "how": how, "s": seconds}))


def memory_section(args):
    n_stimuli, batch, max_features, width = (64 if args.quick else 256), 32, 4096, 16 * 250 * 250
    runs = {"bare": [], "extract": []}
    for _ in range(args.repeats):
        for mode, results in runs.items():
            command = [sys.executable, __file__, "--memory-child", mode, "--batch-size", str(batch)]
            command += ["--memory-stimuli", str(n_stimuli), "--max-features", str(max_features)]
            command += ["--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    peaks = {mode: sorted(r["increase"] for r in results) for mode, results in runs.items()}
    seconds = {mode: min(r["s"] for r in results) for mode, results in runs.items()}
    target = (2 * batch * width * 4 + n_stimuli * max_features * 4) / MIB
    median = {mode: float(np.median(values)) for mode, values in peaks.items()}
    spread = {
        mode: f"{values[0]:.0f}/{median[mode]:.0f}/{values[-1]:.0f}"
        for mode, values in peaks.items()
    }
    above = {"median": median["extract"] - median["bare"]}
    above["max"] = peaks["extract"][-1] - peaks["bare"][-1]
    stimuli_mib = n_stimuli * 250 * 250 * 4 / MIB
    lines = [
        f"# peak memory: Conv2d(1, 16, 1) on {n_stimuli} stimuli 1x250x250 ({stimuli_mib:.0f} "
        f"MiB, in memory), layer of {width:,} features, batch {batch}, max_features="
        f"{max_features}, out_dir; peak resident set above the one before the call "
        f"({runs['bare'][0]['how']}), {args.repeats} fresh processes each: min/median/max "
        "MiB; above_bare: median - median and max - max; target: 2 batches + the output",
        f"{'bare_MiB':>15} {'extract_MiB':>15} {'above_bare':>11} {'target':>6} {'met':>10} "
        f"{'bare_s':>6} {'extract_s':>9}",
        f"{spread['bare']:>15} {spread['extract']:>15} "
        f"{above['median']:>5.0f}/{above['max']:<5.0f} {target:>6.0f} "
        f"{str(above['median'] < target) + '/' + str(above['max'] < target):>10} "
        f"{seconds['bare']:>6.2f} {seconds['extract']:>9.2f}",
    ]
    for line in lines:
        print(line, flush=True)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--sections", nargs="+", choices=["throughput", "memory"], default=["throughput", "memory"]
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--memory-child", choices=["bare", "extract"], help=argparse.SUPPRESS)
    parser.add_argument("--memory-stimuli", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-features", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(args.memory_child, args.memory_stimuli, args.batch_size, args.max_features)
        return
    lines = header_lines(f"bench_extraction{' --quick' if args.quick else ''}", "# measurement")
    print("\n".join(lines), flush=True)
    if "throughput" in args.sections:
        lines += throughput_section(args)
    if "memory" in args.sections:
        lines += memory_section(args)
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
