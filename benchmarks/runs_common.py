"""What the benchmark scripts share: running the two command-line tools with their output kept,
the machine's description (with the code revision and the date), the command line a script was
run with, PNG copies small enough to commit, reading a run's log.csv, and the real-vs-real FID floor."""
from __future__ import annotations

import csv
import datetime
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:   # gan_keras, for a script that did not put the repository root on the path
    sys.path.append(ROOT)
MAX_PNG_BYTES = 300_000


def show(script, args):
    return " ".join(["python", script] + [shlex.quote(x) for x in args])


def command_line(argv=None, script=None):
    """The command that ran a benchmark, for its results file: ``python benchmarks/<script> ARGS``,
    ARGS the arguments it was really given, quoted for the shell (``shlex.join``), none left out.
    ``argv``: those arguments (default ``sys.argv[1:]``; a ``main(argv)`` passes its own ``argv``);
    ``script``: the script's path (default ``sys.argv[0]``; pass ``__file__``), shown relative to the
    repository root when it lies inside it."""
    script = os.path.abspath(sys.argv[0] if script is None else script)
    if os.path.commonpath([script, ROOT]) == ROOT:
        script = os.path.relpath(script, ROOT)
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", shlex.quote(script)] + ([shlex.join(args)] if args else []))


def call(script, args, log_path):
    """Run one CLI from the repository root; its output goes to the terminal and to log_path.
    Returns (seconds, output)."""
    cmd = [sys.executable, os.path.join(ROOT, script), *args]
    print(f"\n$ {show(script, args)}", flush=True)
    t = time.perf_counter()
    lines = []
    with open(log_path, "a") as log:
        log.write(f"$ {show(script, args)}\n")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            lines.append(line)
            if "reading /" not in line:
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    seconds = time.perf_counter() - t
    if rc != 0:
        raise SystemExit(f"{script} exited with {rc} after {seconds:.0f} s; output in {log_path}:\n"
                         + "".join(lines[-30:]))
    return seconds, "".join(lines)


def revision():
    """The code revision measured (gan_keras.utils.code_revision: the git commit, "-dirty" with
    uncommitted changes), or "unknown" outside a git checkout."""
    from gan_keras.utils import code_revision

    return code_revision() or "unknown (not a git checkout)"


def machine():
    """The machine (gan_keras.utils.machine: CPU model, AVX2/AVX-512 flags, platform, host), with
    the code revision (``revision``) and the date and time of the call (``date``), so that every
    results file that records the machine also records what code ran and when."""
    from gan_keras.utils import machine as library_machine

    return {**library_machine(), "revision": revision(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def machine_line(m=None):
    """One line for a results file: CPU model, CPUs, AVX2, the AVX-512 flags, platform, and the code
    revision and date when the file was written (a report rebuilt from earlier runs: a run's
    own revision is its config.json's code_revision, where recorded). ``m``: a dict from machine() (one read back from an
    older results JSON may lack the revision and the date: "?")."""
    m = machine() if m is None else m
    return (f"{m['model']}, {m['cpus']} CPUs, AVX2 {'yes' if m['avx2'] else 'no'}, "
            f"AVX-512 {', '.join(m['avx512']) or 'no'}; {m['platform']}; "
            f"written at code revision {m.get('revision', '?')} on {m.get('date', '?')}")


def copy_png(src, dst):
    """Copy a PNG; one over MAX_PNG_BYTES is re-saved as a 256-colour PNG (then halved if still too big)."""
    if not os.path.exists(src):
        return None
    shutil.copyfile(src, dst)
    if os.path.getsize(dst) > MAX_PNG_BYTES:
        from PIL import Image

        img = Image.open(src).convert("RGB")
        while True:
            img.quantize(256).save(dst, optimize=True)
            if os.path.getsize(dst) <= MAX_PNG_BYTES:
                break
            img = img.resize((img.width // 2, img.height // 2), Image.LANCZOS)
    return os.path.basename(dst)


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, float) and x != 0 and abs(x) < 10 ** -digits:
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def mean(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return sum(xs) / len(xs) if xs else float("nan")


def read_log(path):
    """log.csv rows as dicts of floats (None for empty cells); malformed rows are skipped."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                rows.append({k: (float(v) if v not in ("", None) else None) for k, v in row.items()})
            except (TypeError, ValueError):
                continue
    return rows


def finished(run_dir, iterations):
    """Whether run_dir holds a run whose log reaches ``iterations`` and whose last checkpoint is that one."""
    log = os.path.join(run_dir, "log.csv")
    ckpt = os.path.join(run_dir, "checkpoints", f"iter_{iterations:07d}", "manifest.json")
    return os.path.exists(log) and os.path.exists(ckpt) and any(
        r["iteration"] == iterations for r in read_log(log))


def read_fids(run_dir):
    """evaluation/evaluation.json of a run as {"fid_n", "rows": {iteration: row}, "json"}, or None."""
    path = os.path.join(run_dir, "evaluation", "evaluation.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        ev = json.load(f)
    rows = {c["iteration"]: c for c in ev["checkpoints"]}
    return {"fid_n": ev["fid_sample_number"], "rows": rows, "json": ev}


def evaluated(run_dir, fid_n):
    """Whether every checkpoint of run_dir has a complete evaluation with fid_n images."""
    got = read_fids(run_dir)
    if not got or got["fid_n"] != fid_n or not got["json"].get("complete"):
        return False
    saved = {int(d[5:]) for d in os.listdir(os.path.join(run_dir, "checkpoints")) if d.startswith("iter_")}
    return saved <= set(got["rows"])


def real_floor(dataset, n, seed, data_dir, weights, runs_dir, out_log, *, image_size=None, tag=None, label=""):
    """FID between two disjoint random samples of n real training images of ``dataset`` (at
    ``image_size`` where given, else the dataset's own size): what FID reads for a perfect generator
    at this sample size (the sample-size bias). The images and the result are kept in
    <runs_dir>/real_floor_<tag>_n<n>/ (``tag`` default: the dataset's name); a result already there
    is read back. ``label``: named in the line printed. Returns (the result's dict: fid, n, the FID
    command, the sample drawn; seconds, or None when read back)."""
    folder = os.path.join(runs_dir, f"real_floor_{tag or dataset}_n{n}")
    result = os.path.join(folder, "fid.json")
    if os.path.exists(result):
        with open(result) as f:
            return json.load(f), None
    import numpy as np
    from PIL import Image

    from gan_keras.data.loading import load_dataset

    size = {} if image_size is None else {"image_size": image_size}
    images = load_dataset(dataset, data_dir, progress=False, **size).images
    pick = np.random.default_rng([seed, 2]).permutation(len(images))[:2 * n]
    for half, idx in (("a", pick[:n]), ("b", pick[n:])):
        os.makedirs(os.path.join(folder, half), exist_ok=True)
        for i in idx:
            img = images[i]
            Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(os.path.join(folder, half, f"{i:05d}.png"))
    fid, command, seconds = folder_fid(os.path.join(folder, "a"), os.path.join(folder, "b"), weights, out_log)
    got = {"fid": fid, "n": n, "command": command,
           "sample": f"numpy.random.default_rng([{seed}, 2]).permutation({len(images)})[:{2 * n}], halves"}
    with open(result, "w") as f:
        json.dump(got, f, indent=1)
    print(f"FID real vs real {label + ' ' if label else ''}({n} vs {n}): {fid:.2f}")
    return got, seconds


def add_common_arguments(p, name):
    """--data-dir, --weights, --runs-dir (/tmp/<name>_runs) and --results (benchmarks/results/<name>)."""
    p.add_argument("--data-dir", default="/work/shared/data")
    p.add_argument("--weights", default="/work/shared/weights/fid-inception-2015-12-05.pt")
    p.add_argument("--runs-dir", default=f"/tmp/{name}_runs", help="run directories (outside the repository)")
    p.add_argument("--results", default=os.path.join(ROOT, "benchmarks", "results", name))


def prepare_dirs(a):
    """Make the runs and results folders (runs outside the repository); return (output log path,
    timings path, the timings recorded so far)."""
    a.runs_dir = os.path.abspath(a.runs_dir)
    if os.path.commonpath([a.runs_dir, ROOT]) == ROOT:
        raise SystemExit("--runs-dir must be outside the repository")
    os.makedirs(a.runs_dir, exist_ok=True)
    os.makedirs(a.results, exist_ok=True)
    timings_path = os.path.join(a.results, "timings.json")
    timings = {}
    if os.path.exists(timings_path):
        with open(timings_path) as f:
            timings = json.load(f)
    return os.path.join(a.results, "run_output.txt"), timings_path, timings


def folder_fid(folder_a, folder_b, weights, out_log):
    """FID between two image folders with the 2015 network (``python -m gan_keras.metrics.fid``), its
    output appended to out_log. Returns (fid, the command, seconds)."""
    args = ["-m", "gan_keras.metrics.fid", folder_a, folder_b, "--inception", "fid", "--inception-weights", weights]
    command = "python " + " ".join(shlex.quote(x) for x in args)
    print(f"\n$ {command}", flush=True)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    with open(out_log, "a") as log:
        log.write(f"$ python {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        raise SystemExit(f"gan_keras.metrics.fid exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    fid = float(next(ln for ln in proc.stdout.splitlines() if ln.startswith("FID:")).split(":")[1])
    return fid, command, seconds
