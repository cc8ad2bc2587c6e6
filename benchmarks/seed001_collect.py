"""What ``seed001.py`` and its report read from the runs it left in ``--runs-dir``: the logs
(verbatim, for the resume check, and summarised), the FIDs, a checkpoint's weights, and the resumed
run against the straight one. Also the settings the runner and the report share (``DATASETS``,
``sizes``, ``eval_args``, ``fid_n``). Nothing here trains, evaluates or writes.
"""
from __future__ import annotations

import csv
import json
import math
import os
import zipfile

from runs_common import mean, read_fids

DATASETS = ("mnist", "celeba")  # the runner's and the report's


# ---------------------------------------------------------------------------- shared with the runner

def sizes(a, ds):
    """(iterations, batch, sample_interval, save_model_interval) for a dataset."""
    return {"mnist": (a.mnist_iterations, a.mnist_batch, a.mnist_sample_every, a.mnist_save_every),
            "celeba": (a.celeba_iterations, a.celeba_batch, a.celeba_sample_every, a.celeba_save_every)}[ds]


def eval_args(a, run_dir, ds, iteration):
    return [run_dir, str(fid_n(a, ds)), str(a.gen_n), "--inception", "fid", "--inception-weights", a.weights,
            "--no-similarity", "--checkpoint", str(iteration)]


def fid_n(a, ds):
    return a.fid_n_mnist if ds == "mnist" else a.fid_n_celeba


# ---------------------------------------------------------------------------- collecting

def read_log_raw(path):
    """log.csv as (header, every row as a list of strings), as written. Not runs_common.read_log (floats,
    no header) nor gan_keras.rundir.read_log_rows (dicts, damaged or repeated rows dropped): the resume
    check compares the two logs' rows verbatim, by position."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [row for row in reader]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def log_summary(rows, header):
    """Finite check, timing, final values, first-vs-last-10 % trends, collapse flags."""
    values = [k for k in header if k not in ("iteration", "seconds")]
    nonfinite = [(int(r["iteration"]), k) for r in rows for k in values
                 if r.get(k) is not None and not math.isfinite(r[k])]
    empty = sum(r.get(k) is None for r in rows for k in values)
    iters = [int(r["iteration"]) for r in rows]
    n = len(rows)
    tenth = max(1, n // 10)
    secs = [r["seconds"] for r in rows]
    steps = [b - a for a, b in zip(secs, secs[1:])]
    out = {
        "rows": n, "columns": values, "contiguous": iters == list(range(1, n + 1)),
        "nonfinite": nonfinite, "empty_cells": empty,
        "first_iteration_seconds": secs[0] if secs else float("nan"),
        "median_step_seconds": median(steps), "mean_seconds_per_iteration": secs[-1] / n if n else float("nan"),
        "total_seconds": secs[-1] if secs else float("nan"),
        "final": {k: rows[-1].get(k) for k in values} if rows else {},
        "first10": {k: mean(r.get(k) for r in rows[:tenth]) for k in values},
        "last10": {k: mean(r.get(k) for r in rows[-tenth:]) for k in values},
        "tenth": tenth,
        "collapse_iterations": [int(r["iteration"]) for r in rows if (r.get("collapse") or 0) >= 0.5],
        "k_t_max": max((r["k_t"] for r in rows), default=float("nan")),
        "k_t_max_iteration": int(max(rows, key=lambda r: r["k_t"])["iteration"]) if rows else None,
        "m_global_min": min((r["m_global"] for r in rows), default=float("nan")),
        "m_global_min_iteration": int(min(rows, key=lambda r: r["m_global"])["iteration"]) if rows else None,
    }
    return out


def read_fid(run_dir, iteration):
    got = read_fids(run_dir)
    row = got and got["rows"].get(iteration)
    if not row:
        return None
    return {"fid_n": got["fid_n"], "row": row, "complete": got["json"].get("complete"),
            "seconds": row.get("timings", {})}


def keras_weights(path):
    """{dataset name: array} of the model.weights.h5 inside a .keras file (h5py, no TensorFlow)."""
    import io

    import h5py

    out = {}
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as h5:
        h5.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def compare_resume(a, name, main_name, h, t):
    """The resumed run vs the straight main run, at iteration t."""
    import numpy as np

    res_dir, main_dir = os.path.join(a.runs_dir, name), os.path.join(a.runs_dir, main_name)
    out = {"h": h, "t": t}
    hdr_r, rows_r = read_log_raw(os.path.join(res_dir, "log.csv"))
    hdr_m, rows_m = read_log_raw(os.path.join(main_dir, "log.csv"))
    keep = [i for i, k in enumerate(hdr_r) if k != "seconds"]
    strip = lambda row: [row[i] for i in keep]  # noqa: E731
    out["columns_compared"] = [hdr_r[i] for i in keep]
    out["header_equal"] = hdr_r == hdr_m
    out["resumed_rows"] = len(rows_r)
    main_first = rows_m[:t]
    out["rows_equal"] = sum(strip(x) == strip(y) for x, y in zip(rows_r, main_first))
    out["log_equal"] = out["header_equal"] and len(rows_r) == t and out["rows_equal"] == t
    mism = [int(x[0]) for x, y in zip(rows_r, main_first) if strip(x) != strip(y)]
    out["first_mismatch"] = mism[0] if mism else None
    if mism:  # where and how large the first difference is
        x = next(r for r in rows_r if int(r[0]) == mism[0])
        y = main_first[mism[0] - 1]
        cols = [hdr_r[i] for i in keep if x[i] != y[i]]
        out["first_mismatch_columns"] = cols
        out["first_mismatch_values"] = {c: [x[hdr_r.index(c)], y[hdr_r.index(c)]] for c in cols}
        rel = 0.0
        for xr, yr in zip(rows_r, main_first):
            for i in keep[1:]:
                u, v = float(xr[i]), float(yr[i])
                if u != v:
                    rel = max(rel, abs(u - v) / max(abs(u), abs(v)))
        out["max_relative_log_difference"] = rel
    ck = f"checkpoints/iter_{t:07d}"
    r_ck, m_ck = os.path.join(res_dir, ck), os.path.join(main_dir, ck)
    with np.load(os.path.join(r_ck, "trainer_state.npz")) as zr, np.load(os.path.join(m_ck, "trainer_state.npz")) as zm:
        out["state_arrays"] = len(zr.files)
        out["state_same_names"] = sorted(zr.files) == sorted(zm.files)
        diff = [k for k in zr.files if k not in zm.files or zr[k].shape != zm[k].shape
                or not np.array_equal(zr[k], zm[k])]
        out["state_arrays_different"] = diff
        out["state_equal"] = out["state_same_names"] and not diff
        out["state_max_abs_difference"] = max((float(np.max(np.abs(zr[k].astype(np.float64) - zm[k].astype(np.float64))))
                                               for k in diff if k in zm.files and zr[k].shape == zm[k].shape), default=0.0)
    # the first call's own checkpoint H against the straight run's, where the straight run has one
    h_ck = f"checkpoints/iter_{h:07d}/trainer_state.npz"
    if os.path.exists(os.path.join(main_dir, h_ck)) and os.path.exists(os.path.join(res_dir, h_ck)):
        with np.load(os.path.join(res_dir, h_ck)) as zr, np.load(os.path.join(main_dir, h_ck)) as zm:
            out["checkpoint_h_equal"] = sorted(zr.files) == sorted(zm.files) and all(
                np.array_equal(zr[k], zm[k]) for k in zr.files)
    for net in ("generator", "discriminator"):
        wr, wm = keras_weights(os.path.join(r_ck, f"{net}.keras")), keras_weights(os.path.join(m_ck, f"{net}.keras"))
        out[f"{net}_weights"] = len(wr)
        out[f"{net}_weights_equal"] = sorted(wr) == sorted(wm) and all(np.array_equal(wr[k], wm[k]) for k in wr)
    with open(os.path.join(r_ck, "state.json")) as f:
        sr = json.load(f)
    with open(os.path.join(m_ck, "state.json")) as f:
        sm = json.load(f)
    out["rng_state_equal"] = sr.get("rng_state") == sm.get("rng_state")
    marker = os.path.join(res_dir, "resume_output.json")
    if os.path.exists(marker):
        with open(marker) as f:
            out["second_call"] = json.load(f)
    out["equal"] = all(out[k] for k in ("log_equal", "state_equal", "generator_weights_equal",
                                        "discriminator_weights_equal", "rng_state_equal"))
    return out
