"""The training loop shared by every engine: data, logs, samples, checkpoints, resume, signals.

``Trainer(config).run()`` is what ``GAN_main.py`` calls. Everything is validated (dataset,
sizes, memory; ``run_setup.py``) *before* anything is written in the run directory (only its lock
creates the folder, and a refusal removes it again: ``runlock.py``), so bad input leaves nothing
behind.
"""
from __future__ import annotations

import math
import shlex
import os
import shutil
import time

import keras
import numpy as np

from gan_keras import backend, rundir
from gan_keras.errors import ConfigError, RunDirError, TrainingDiverged
from gan_keras.hparams import draw_latent
from gan_keras.registry import get_model
from gan_keras.report.grids import save_grid
from gan_keras.report.plots import plot_run
from gan_keras.training import checkpoints as ckpt
from gan_keras.training import distribute, divergence
from gan_keras.training.distribute import make_strategy
from gan_keras.training.base import layer_seed_generators, reseed_generators
from gan_keras.training.d_f1 import DiscriminatorF1
from gan_keras.training.engine import build_engine
from gan_keras.training import run_setup, runlock
from gan_keras.training.config import RunConfig
from gan_keras.training.runlog import IntervalMeans, LogWriter, StopRequest
from gan_keras.training.tensorboard import TensorBoardLog
from gan_keras.utils import write_json_atomic

SAMPLE_GRID = 64  # an 8x8 grid from fixed noise


def hms(seconds: float) -> str:
    """``H:MM:SS`` with as many hours as it takes (``time.strftime`` wraps at 24 h), e.g. 67:42:05."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Trainer:
    def __init__(self, config: RunConfig):
        self.config = config
        self.spec = get_model(config.model)
        self.hp = self.spec.hyperparams(**config.hyperparams)
        self.run_dir = config.run_dir()
        self.read_dir = self.run_dir  # where the run is read; a non-chief worker writes elsewhere (run)
        self._fixed_real = None  # the real batch behind an engine's extra grids (made when first needed)
        self._plotted = None     # what the plots last drawn showed (see _plots)

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> str:
        """Train (or resume) the run; returns its directory. Nothing is written before every check passes,
        and only one process at a time trains a run directory (``runlock.py``)."""
        self.lock, failed = None, True
        try:
            with backend.traced_gradients_released():  # else the process keeps every run's weights
                result, failed = self._run(), False
            return result
        finally:
            if self.lock is not None:   # after a refusal it also removes the folders it made for the lock
                self.lock.release(failed=failed)

    def _run(self) -> str:
        previous, dataset, memory = self._prepare()
        read_dir, c = self.read_dir, self.config
        with distribute.scope(self.strategy):
            engine = build_engine(self.spec, self.hp, self.image_shape)
        probe = self._f1_probe(engine, dataset)
        init_source = c.init_from or ((previous or {}).get("init_from") or {}).get("path")
        init_info = (previous or {}).get("init_from")
        if previous is None and init_source:  # checked (and loaded) before anything is written
            init_info = ckpt.initialise_from(init_source, engine, self.spec.name)

        if self.strategy is not None and not distribute.is_chief(self.strategy):
            self.run_dir = distribute.scratch_dir(read_dir)  # the same writes, thrown away at the end
            print(f"a non-chief worker: {read_dir} is the chief's to write; this one writes to {self.run_dir}")
        elif previous is None and os.path.isdir(self.run_dir) and not runlock.is_empty(self.run_dir):
            runlock.clear(self.run_dir)  # --force
        os.makedirs(self.run_dir, exist_ok=True)
        ckpt.tidy(self.run_dir)

        self.rng = np.random.default_rng(self.seed)
        self.rollbacks = 0   # NaN rollbacks so far: saved with every checkpoint, so a resumed run reseeds as a straight one
        start, fixed_noise, elapsed, log_backup = 0, None, 0.0, None
        if previous is not None:
            restored = ckpt.latest_loadable(read_dir, engine)
            if restored is not None:
                start, fixed_noise, elapsed, log_backup = self._restored(restored)
            elif rundir.list_checkpoints(read_dir, include_incomplete=True) or \
                    os.path.isdir(os.path.join(read_dir, rundir.CHECKPOINTS, rundir.AUTOSAVE)):
                raise RunDirError(   # never start over silently: that would cut the log back to nothing
                    f"none of the checkpoints of {read_dir} can be loaded (the warnings above say why); "
                    f"no checkpoint or log was changed. To train the run again from iteration 0, delete "
                    f"{os.path.join(read_dir, rundir.CHECKPOINTS)}, or choose another --out")
            else:   # stopped before its first checkpoint or resume point
                print(f"{self.run_dir} has no checkpoint yet: starting it again from iteration 0")
                if init_source:
                    init_info = ckpt.initialise_from(init_source, engine, self.spec.name)
        if fixed_noise is None:
            fixed_noise = draw_latent(self.rng, (SAMPLE_GRID, self.hp.latent_dim), self.hp.latent, float64_normal=True)

        if start < c.epochs:   # a session with nothing to train leaves config.json (its command, its sessions) as it was
            write_json_atomic(os.path.join(self.run_dir, rundir.CONFIG), run_setup.describe_run(
                c, self.spec, self.hp, self.image_shape, seed=self.seed, start=start, dataset=dataset, engine=engine,
                probe=probe, log_spec=self.log_spec, init_info=init_info, memory=memory, previous=previous))

        self.engine, self.fixed_noise, self.dataset = engine, fixed_noise, dataset
        if hasattr(engine, "attach_data"):  # an engine that draws its batches on the device
            engine.attach_data(dataset.images[:self.n_train], c.batch_size)
        self.log = LogWriter(os.path.join(self.run_dir, rundir.LOG), ["iteration", *self.log_spec.names, "seconds"])
        self.log.open(keep_until=start, backup=log_backup)
        self.tb = TensorBoardLog.open(os.path.join(self.run_dir, rundir.TENSORBOARD), keep_until=start) \
            if c.tensorboard else None
        try:
            with StopRequest(chunk=(c.fetch_every or 1) if hasattr(engine, "train_iterations") else 1) as stop:
                self._loop(start, elapsed, stop)
                return read_dir
        finally:
            self.log.close()
            if self.tb is not None:
                self.tb.close()
            if self.run_dir != read_dir:
                shutil.rmtree(self.run_dir, ignore_errors=True)

    def _prepare(self):
        """Every check (run_setup.py), the strategy, the data and the seed: (previous config or
        None, dataset, memory estimate)."""
        from gan_keras.data import image_shape

        c = self.config
        run_setup.validate_sizes(c)
        if c.strategy not in (None, "none") and self.hp.get("engine") != "compiled":
            raise ConfigError(f"--strategy {c.strategy} needs --engine compiled")
        if (c.fetch_every or 1) > 1 and self.hp.get("engine") != "compiled":
            raise ConfigError("--fetch-every applies to --engine compiled (the other engines return every "
                              "iteration's logs as it ends)")
        self.strategy = make_strategy(c.strategy)  # before TensorFlow runs anything
        self.image_shape = image_shape(c.dataset, c.image_size) if c.image_size is not None else image_shape(c.dataset)
        self.spec.check_shape(self.image_shape, self.hp)
        rundir.not_a_checkpoint_folder(self.run_dir, run_setup.CHECKPOINT_FOLDER_ADVICE)  # before its lock
        if self.strategy is None or distribute.is_chief(self.strategy):  # a non-chief worker writes elsewhere
            self.lock = runlock.RunLock(self.run_dir, c.command).acquire()
        previous = run_setup.existing_run(self.run_dir, c, self.spec, self.hp, self.image_shape)
        run_setup.note_backend_change(previous)
        if c.data_dir is None and previous and previous.get("data_dir"):
            c.data_dir = previous["data_dir"]  # a resumed run finds its data where it did before
        elif c.data_dir is not None:
            c.data_dir = os.path.abspath(c.data_dir)
        dataset = run_setup.load_data(c)
        run_setup.check_same_data(c, previous, dataset)
        memory = run_setup.check_memory(self.spec, self.hp, dataset, c.batch_size)

        seed = c.seed if c.seed is not None else (previous or {}).get("seed")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        self.seed = int(seed)
        self._seed_everything(self.seed)
        return previous, dataset, memory

    def _restored(self, restored):
        """A resumed run's state from its latest loadable checkpoint (the engine is already loaded):
        (start iteration, fixed noise, elapsed seconds, the checkpoint's copy of the log)."""
        checkpoint, state, extras = restored
        self.rng.bit_generator.state = state["rng_state"]
        self.rollbacks = int(state.get("rollbacks", 0))
        where = " (its resume point)" if os.path.basename(checkpoint.path) == rundir.AUTOSAVE else ""
        print(f"resuming {self.run_dir} from iteration {checkpoint.iteration}{where}")
        if self.config.init_from:
            print(f"note: --init-from is ignored: the run continues from its own checkpoint {checkpoint.iteration}")
        return (checkpoint.iteration, extras["fixed_noise"], float(state.get("elapsed_seconds", 0.0)),
                os.path.join(checkpoint.path, rundir.LOG))

    def _f1_probe(self, engine, dataset):
        """The discriminator-F1 probe (or None), holding out the dataset's last images from training.

        Also fixes ``self.log_spec``: the engine's declared values, then the probe's.
        """
        c, n = self.config, run_setup.f1_images(self.config)
        self.n_train = len(dataset) - (n or 0)
        probe = None
        if n:
            if engine.decision_threshold is None:
                raise ConfigError(f"--f1-every: {self.spec.name}'s discriminator is not a classifier, so it has no F1")
            held_out = dataset.batch(np.arange(self.n_train, len(dataset)))
            probe = DiscriminatorF1(held_out, c.f1_every, engine.decision_threshold, self.hp.latent_dim, self.seed,
                                    latent=self.hp.latent)
        self.probe = probe
        self.log_spec = engine.log_spec.merge(probe.log_spec if probe else None)
        return probe

    def _seed_everything(self, seed):
        keras.utils.set_random_seed(seed)
        backend.disable_graph_optimizer()   # always: with it on, a step could read updated weights (backend.py)
        if self.config.deterministic:
            backend.enable_determinism()   # op determinism too (TensorFlow; a no-op elsewhere)

    def _draw_real(self):
        idx = self.rng.integers(0, self.n_train, self.config.batch_size)
        return self.dataset.batch(idx)

    def _loop(self, start: int, elapsed: float, stop: StopRequest) -> str:
        c, spec = self.config, self.spec
        last_saved = start
        t_session = time.perf_counter()
        t_report, it_report, t_autosave = t_session, start, t_session
        iteration = start
        if start >= c.epochs:
            print(f"{self.run_dir} already has {start} iterations (asked for {c.epochs}): nothing to do")
            self._finish(start, elapsed)
            return self.run_dir
        distinct = (getattr(self.dataset, "info", None) or {}).get("distinct_images")
        count = f"{len(self.dataset)} images" + (f" of which {distinct} distinct" if distinct and
                                                 distinct < len(self.dataset) else "")
        gpus = backend.gpu_count()
        print(f"training {spec.name} on {c.dataset} ({count}, {'x'.join(map(str, self.image_shape))}) "
              f"for {c.epochs} iterations, batch {c.batch_size}, seed {self.seed} -> {self.run_dir}\n"
              f"  ({backend.where_it_runs(gpus)}; each progress line: the mean of every value since the line before)",
              flush=True)
        if self.hp.get("engine", "stacked") != "compiled" and gpus:
            print("  (a GPU is visible: --engine compiled --fetch-every 100 trains this model several times "
                  "faster there, e.g. DCGAN-64 at 94 it/s against the stacked engine's 37 on an H100; "
                  "README 'Speed')", flush=True)
        interval = IntervalMeans()
        while iteration < c.epochs:
            t_chunk = time.perf_counter()
            chunk = self._train_chunk(iteration)
            t_end = time.perf_counter()
            for position, logs in enumerate(chunk, start=1):
                self.engine.log_spec.check(logs)  # an undeclared value is an error, never dropped
                iteration += 1
                if self.probe is not None:  # (a chunk ends at every probed iteration)
                    logs.update(self.probe(iteration, self.engine))
                # rows of one fetched chunk share its time evenly
                now = t_chunk + (t_end - t_chunk) * position / len(chunk)
                row = {"iteration": iteration, **logs, "seconds": round(elapsed + now - t_session, 3)}
                self.log.write(row)
                if not all(math.isfinite(v) for k, v in logs.items()):
                    break
                if self.tb is not None:
                    self.tb.scalars(iteration, logs)
                interval.add(logs)
                for alarm in self.log_spec.alarms(logs):
                    print(f"warning: iteration {iteration}: {alarm}", flush=True)
            if not all(math.isfinite(v) for k, v in logs.items()):
                # the rest of the chunk, computed after the divergence, is dropped with its state
                iteration, elapsed = self._diverged(iteration, logs)
                interval = IntervalMeans()   # the rolled-back iterations' values are not the run's
                last_saved = it_report = iteration
                t_session = t_autosave = t_report = time.perf_counter()
                continue

            # Everything below sees the state after the chunk's last iteration, which is `iteration`.
            if iteration % c.sample_interval == 0 or iteration == c.epochs:   # the final model's grid too
                self._sample(iteration)
            if iteration % c.save_model_interval == 0 or iteration == c.epochs:
                self._checkpoint(iteration, elapsed + now - t_session)
                last_saved = iteration
            elif c.autosave_minutes and now - t_autosave >= 60 * c.autosave_minutes:
                self._checkpoint(iteration, elapsed + now - t_session, autosave=True)
                t_autosave = time.perf_counter()
            if now - t_report >= c.progress_seconds or iteration in (start + 1, c.epochs) or \
                    start + 1 in range(iteration - len(chunk) + 1, iteration + 1):
                rate = (iteration - it_report) / max(now - t_report, 1e-9)
                self._progress(iteration, interval.pop(), rate,
                               first_seconds=now - t_report if it_report == start else None)
                t_report, it_report = now, iteration
            if stop.signal_name:
                # A resume point, not a checkpoint: the run's checkpoints stay the ones its
                # save_model_interval asked for (the ones GAN_evaluation.py evaluates).
                if last_saved != iteration:
                    self._checkpoint(iteration, elapsed + now - t_session, autosave=True)
                self._plots()
                print(f"stopped by {stop.signal_name} at iteration {iteration}; resume point saved. To continue:\n"
                      f"  {self._resume_command()}", flush=True)
                raise SystemExit(130 if stop.signal_name == "SIGINT" else 143)
        self._finish(iteration, elapsed + time.perf_counter() - t_session)
        return self.run_dir

    # -- pieces of the loop -------------------------------------------------------------------
    def _train_chunk(self, iteration) -> list[dict]:
        """The next iterations' logs: one iteration, or with ``--fetch-every K`` and an engine that
        can run several per call (``train_iterations``), up to K, ending at the next iteration where
        something reads the engine's state (a sample, a checkpoint, the F1 probe, the last one)."""
        c = self.config
        fetch = c.fetch_every
        if fetch == 1 or not hasattr(self.engine, "train_iterations"):
            return [self.engine.train_iteration(self._draw_real, self.rng)]
        stops = [c.sample_interval, c.save_model_interval] + ([c.f1_every] if self.probe is not None else [])
        end = min([iteration + fetch, c.epochs] + [(iteration // k + 1) * k for k in stops])
        return self.engine.train_iterations(end - iteration)

    def _progress(self, iteration, logs, rate, first_seconds=None):
        """One progress line: the values' means since the last line, the speed since then, the
        time left. The session's first line times the first call, which builds and traces the
        train functions, so it gives no ETA (it would be far too long)."""
        c = self.config
        if first_seconds is not None and iteration < c.epochs:
            speed = f"{first_seconds:.1f} s to start (building and tracing; the ETA follows)"
        else:
            left = (c.epochs - iteration) / rate if rate > 0 else float("inf")
            speed = f"{rate:.2f} it/s | ETA {hms(left) if math.isfinite(left) else '?'}"
        print(f"[{iteration}/{c.epochs}] {self.log_spec.progress_text(logs)} | {speed}", flush=True)

    def _sample(self, iteration):
        images = self.engine.generate(self.fixed_noise)
        scale = 2 if self.image_shape[0] < 64 else 1
        path = save_grid(images, os.path.join(self.run_dir, rundir.SAMPLES, rundir.sample_name(iteration)), scale=scale)
        self._extra_grids(iteration, scale)
        if self.tb is not None:
            self.tb.images(iteration, images)
        return path

    def _extra_grids(self, iteration, scale):
        """Grids an engine makes from a fixed real batch (e.g. an auto-encoder D's reconstructions):
        ``samples/<name>/iter_*.png``, with the real batch itself as ``samples/<name>/real.png``."""
        grids = getattr(self.engine, "sample_grids", None)
        if grids is None:
            return
        if self._fixed_real is None:  # its own generator: training's draws are untouched
            pick = np.random.default_rng([self.seed, 3]).permutation(self.n_train)[:SAMPLE_GRID]
            self._fixed_real = self.dataset.batch(np.sort(pick))
        for name, images in grids(self._fixed_real).items():
            folder = os.path.join(self.run_dir, rundir.SAMPLES, name)
            if not os.path.exists(os.path.join(folder, "real.png")):
                save_grid(self._fixed_real, os.path.join(folder, "real.png"), scale=scale)
            save_grid(images, os.path.join(folder, rundir.sample_name(iteration)), scale=scale)

    def _checkpoint(self, iteration, elapsed, autosave=False):
        """A checkpoint; or, with ``autosave``, the run's resume point (--autosave MINUTES): the same
        state without the .keras files, so a killed run loses at most those minutes. Resuming is
        exact from any iteration, so where the time-driven resume points fall changes nothing."""
        state = {"iteration": iteration, "rng_state": self.rng.bit_generator.state, "seed": self.seed,
                 "elapsed_seconds": elapsed, "model": self.spec.name, "rollbacks": self.rollbacks}
        self.log.sync()  # every row up to the checkpoint is on disk before the checkpoint is
        if self.tb is not None:
            self.tb.flush()   # and every TensorBoard event
        ckpt.save_checkpoint(self.run_dir, iteration, self.engine, state, {"fixed_noise": self.fixed_noise},
                             copies=[os.path.join(self.run_dir, rundir.LOG), os.path.join(self.run_dir, rundir.CONFIG)],
                             autosave=autosave)
        if not autosave:
            ckpt.remove_autosave(self.run_dir, up_to=iteration)
            self._plots()

    def _plots(self):
        """Draw the declared plots again, unless what they show (log.csv, the checkpoints marked on
        their x axes) is unchanged since they were last drawn: a run whose last iteration is a
        checkpoint is not drawn twice at its end (a set of plots is 0.1 to 0.2 s per figure)."""
        try:
            log = os.path.join(self.run_dir, rundir.LOG)
            log = os.stat(log) if os.path.exists(log) else None
            shown = (log and (log.st_ino, log.st_size, log.st_mtime_ns),
                     tuple(c.iteration for c in rundir.list_checkpoints(self.run_dir)))
            if shown != self._plotted:
                plot_run(self.run_dir, self.log_spec, title=f"{self.spec.name} on {self.config.dataset} "
                                                             f"({os.path.basename(os.path.normpath(self.read_dir))})")
                self._plotted = shown
        except Exception as exc:  # a plot must never cost a run
            print(f"warning: could not draw the plots ({exc})")

    def _diverged(self, iteration, logs):
        """A non-finite loss: stop, or (``--on-nan rollback``) return to the last checkpoint (never a
        resume point, whose place depends on the clock) with new seeds. Returns (iteration, elapsed)."""
        c, rollbacks = self.config, self.rollbacks
        restored = ckpt.latest_loadable(self.run_dir, self.engine, resume_point=False) \
            if c.on_nan == "rollback" and rollbacks < c.max_rollbacks else None
        checkpoints = rundir.list_checkpoints(self.run_dir)
        last = f"iteration {checkpoints[-1].iteration}" if checkpoints else "none yet"
        record = divergence.new_record(self.run_dir, iteration, logs, last, c.on_nan)
        if restored is None:
            divergence.write(self.run_dir, record)
            self._plots()
            raise TrainingDiverged(divergence.stop_message(
                iteration, logs, run_dir=self.run_dir, on_nan=c.on_nan, has_checkpoints=bool(checkpoints),
                last_checkpoint=last, rollbacks=rollbacks, max_rollbacks=c.max_rollbacks,
                resume_command=self._resume_command()))
        checkpoint, state, _ = restored
        self.rollbacks = rollbacks = rollbacks + 1
        new_seed = self.seed + 1_000_003 * rollbacks
        self.rng = np.random.default_rng(new_seed)
        keras.utils.set_random_seed(new_seed % 2**31)
        if hasattr(self.engine, "reseed"):  # the engine's own draws (noise, DiffAugment, device batches)
            self.engine.reseed(new_seed)
        # and the networks' own (Dropout, DeLiGAN's mixture): restored with the checkpoint, they
        # would replay the draws that diverged
        reseed_generators(new_seed + 1000, layer_seed_generators(self.engine.generator, self.engine.discriminator))
        record.update(status="rolled back", action=f"rolled back to iteration {checkpoint.iteration} with "
                                                   f"data/noise seed {new_seed}", last_good_checkpoint=
                      f"iteration {checkpoint.iteration}")
        divergence.write(self.run_dir, record)
        self.log.close()
        self.log.open(keep_until=checkpoint.iteration, backup=os.path.join(checkpoint.path, rundir.LOG))
        print(f"loss became non-finite at iteration {iteration} ({divergence.bad_values(logs)}): rolled back to "
              f"iteration {checkpoint.iteration} and continuing with data/noise seed {new_seed}", flush=True)
        return checkpoint.iteration, float(state.get("elapsed_seconds", 0.0))

    def _finish(self, iteration, elapsed):
        self._plots()
        d = self.read_dir
        # The dissertation's 5,000 images, or as many as the dataset has (FID compares as many real ones).
        n = min(5000, len(self.dataset))
        print(f"done: {iteration} iterations, {elapsed:.0f} s of training in all its sessions; run directory {d}\n"
              f"  samples in {os.path.join(d, rundir.SAMPLES)}, curves in {os.path.join(d, rundir.PLOTS)}; "
              f"its FID: python {shlex.quote(self.config.script('GAN_evaluation.py'))} {shlex.quote(d)} {n} "
              f"{min(500, n)}{_inception_option()}  "
              "(README 'Evaluation': which Inception weights, and how long on a CPU)", flush=True)

    def _resume_command(self):
        return self.config.resume_command(self.run_dir)


def _inception_option() -> str:
    """" --inception fid" where the evaluation's default network, Keras' InceptionV3, has no weights
    on this machine (the FID network's are fetched from the package registry, or found), else ""."""
    from gan_keras.errors import WeightsError
    from gan_keras.metrics.weights import find_keras_weights

    try:
        find_keras_weights(download=False)
        return ""
    except WeightsError:
        return " --inception fid"
    except Exception:  # noqa: BLE001 - advice must never cost a finished run
        return ""
