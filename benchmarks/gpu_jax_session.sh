#!/usr/bin/env bash
# One GPU session on a machine with Keras-capable JAX but no TensorFlow (the device machines lent
# to this project; README "Speed"). Everything the session measures, in one command:
#
#   1. a run of the dissertation's command on Keras's JAX backend (MODEL on DATASET, default DCGAN
#      102flowers, batch BATCH=64, a sample grid every 1,000 iterations), stopped by SIGTERM after
#      TRAIN_SECONDS (a resume point is written, so it can go on later). Every model runs there,
#      the custom-step ones too (WGANGP, BEGAN, BEGANCS, BEGANV3, EDGEGAN: training/autodiff.py);
#      copy DATASET's folder into DATA_DIR;
#   2. the evaluation images of its last checkpoint (GAN_evaluation.py's noise, seed 0, 8-bit),
#      measured on a machine with the FID network: benchmarks/generated_images.py fid OUT/*.npz;
#   3. benchmarks/train_speed.py on the same GPU (SPEED_ARGS): by default WGAN-GP and DCGAN at 64x64 on
#      the compiled engine, float32 and bf16 mixed precision (stopped by SIGINT after SPEED_SECONDS; what
#      was measured by then is written).
# The defaults are the dissertation's flowers command (40,000 iterations, batch 64, a sample grid every
# 1,000, a checkpoint every 10,000) with the logs fetched every 100 iterations (--fetch-every 100: the
# same training, without a host-device wait per iteration). What comes back from the lent machines is
# at most 8 files of 16 MiB: the run's files (no checkpoints) come as bundle.tgz.part-aa, -ab, ...
# (cat them | tar -xz).
#
# Run from the repository root, with the data in DATA_DIR (default .devdata) and, where Keras is not
# installed, its wheels in .whl/ (keras, namex, optree). Results go to $OUT (default /tmp/gpu_out).
# Preparing them here (both folders are ignored by git):
#   mkdir -p .devdata && cp -r ../shared/data/102flowers .devdata/
#   for w in keras==3.15.1 namex==0.1.0 optree==0.20.0; do python3 -m pip download --no-deps \
#       --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
#       --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 -d .whl $w; done
# On the lent machines (issue 15/16 notes):
#   run(command="OUT=$OUT bash benchmarks/gpu_jax_session.sh", carry=[".whl", ".devdata"], timeout_s=598)
# The session of 2026-11-27 (benchmarks/results/gpu_jax_40k/) was, with today's defaults:
#   TRAIN_ARGS="--mixed-precision bf16 --fetch-every 100" OUT=$OUT bash benchmarks/gpu_jax_session.sh
# The second session that day (the float32 run to 40,000, then WGAN-GP's critic calls compared) was
#   TRAIN_SECONDS=510 SPEED_SECONDS=0 OUT=$OUT bash benchmarks/gpu_jax_session.sh
#   TRAIN_SECONDS=0 SPEED_SECONDS=210 SPEED_ARGS="--models WGANGP --sizes 64 --engines compiled
#     --determinism off --jit off --precision bf16 off --hparams critic_call=separate,joint
#     --inception-images 0 --warmup 2 --iterations 15 --repeats 1" OUT=$OUT bash benchmarks/gpu_jax_session.sh
# (benchmarks/results/gpu_jax_40k/README.md). WGAN-GP's 40,000 iterations (about 18 minutes in bf16,
# 17 with --critic-call joint) do not fit one session's 15 minutes.
# The settings are environment variables: bash benchmarks/gpu_jax_session.sh --help lists them.
set -u
usage() {
    cat <<'USAGE'
usage: [VAR=value ...] bash benchmarks/gpu_jax_session.sh [-h|--help]

One GPU session on Keras's JAX backend, from the repository root: train MODEL on DATASET (stopped by
SIGTERM after TRAIN_SECONDS, with a resume point), write the evaluation images of its last
checkpoint (measure them elsewhere: benchmarks/generated_images.py fid OUT/*.npz), then run
benchmarks/train_speed.py SPEED_ARGS. The settings are environment variables (default in brackets):

  OUT            where the log, the images and the bundle go [/tmp/gpu_out]
  DATA_DIR       the folder holding DATASET's folder [$PWD/.devdata]
  MODEL          the model to train [DCGAN]
  DATASET        its dataset [102flowers]
  BATCH          batch size [64]
  ENGINE         compiled or stacked [compiled]; a failed compiled run falls back to stacked
  TRAIN_ARGS     more GAN_main.py arguments, e.g. "--mixed-precision bf16 --fetch-every 100" [--fetch-every 100]
  ITERATIONS     the run's iteration count [40000]
  SAVE_EVERY     checkpoint interval [10000]
  TRAIN_SECONDS  training stops after this many seconds [400]; 0 skips training and the images
  FID_N          evaluation images of the last checkpoint [5000]
  SPEED_SECONDS  train_speed.py stops after this many seconds (SIGINT: it writes what it measured) [125];
                 0 skips it
  SPEED_ARGS     train_speed.py's arguments [--models WGANGP DCGAN --sizes 64 --engines compiled
                 --determinism off --jit off --precision off bf16 --upsampled-conv grouped
                 --inception-images 0 --warmup 2 --iterations 15 --repeats 1]
  KERAS_BACKEND  [jax]
  ALLOW_CPU      set to run without a GPU visible to JAX (a check of the script, not a measurement)

The sessions in benchmarks/results/gpu_jax_40k/ (2026-11-27) are, with today's script:
  TRAIN_ARGS="--mixed-precision bf16 --fetch-every 100" bash benchmarks/gpu_jax_session.sh
  TRAIN_SECONDS=510 SPEED_SECONDS=0 bash benchmarks/gpu_jax_session.sh   (float32; its README has the rest)
The session in benchmarks/results/gpu_jax/ (2026-11-26, before ENGINE, TRAIN_ARGS and the grouped
upsampled convolution existed) is, with today's script:
  ENGINE=stacked TRAIN_ARGS="--upsampled-conv literal" ITERATIONS=10000 SAVE_EVERY=2500
  TRAIN_SECONDS=260 SPEED_SECONDS=160 SPEED_ARGS="--models DCGAN WGAN --sizes 64 --engines stacked
  --determinism off --jit off --precision off bf16 --upsampled-conv literal --inception-images 0
  --warmup 2 --iterations 15 --repeats 1" bash benchmarks/gpu_jax_session.sh
USAGE
}
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    "") ;;
    *) echo "unknown argument '$1': the settings are environment variables (--help lists them)" >&2; exit 2 ;;
esac
OUT=${OUT:-/tmp/gpu_out}
DATA_DIR=${DATA_DIR:-$PWD/.devdata}
MODEL=${MODEL:-DCGAN}
DATASET=${DATASET:-102flowers}
BATCH=${BATCH:-64}
ENGINE=${ENGINE:-compiled}   # the whole iteration as one jax.jit (training/compiled_jax.py); stacked: train_on_batch
TRAIN_ARGS=${TRAIN_ARGS---fetch-every 100}   # more GAN_main.py arguments (split on spaces); set, even empty, it replaces the default
ITERATIONS=${ITERATIONS:-40000}
SAVE_EVERY=${SAVE_EVERY:-10000}
TRAIN_SECONDS=${TRAIN_SECONDS:-400}
FID_N=${FID_N:-5000}
SPEED_SECONDS=${SPEED_SECONDS:-125}
SPEED_ARGS=${SPEED_ARGS:---models WGANGP DCGAN --sizes 64 --engines compiled --determinism off --jit off --precision off bf16 --upsampled-conv grouped --inception-images 0 --warmup 2 --iterations 15 --repeats 1}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 KERAS_BACKEND=${KERAS_BACKEND:-jax} GAN_KERAS_DATA_DIR="$DATA_DIR"
stamp() { echo "=== $(date -u +%H:%M:%S) $*"; }

stamp setup
if ! python3 -c "import keras" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
    export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__, keras.backend.backend())" || exit 3
if [ -z "${ALLOW_CPU:-}" ] && ! python3 -c "import jax, sys; sys.exit(jax.devices()[0].platform != 'gpu')"; then
    echo "no GPU visible to JAX: stopping (ALLOW_CPU=1 runs anyway)"; exit 4
fi
RUN=/tmp/gpu_run/${MODEL}_${DATASET}

if [ "$TRAIN_SECONDS" != 0 ]; then
stamp "train $MODEL $DATASET $ITERATIONS iterations, batch $BATCH, engine $ENGINE $TRAIN_ARGS (stopped after ${TRAIN_SECONDS}s)"
# shellcheck disable=SC2086
timeout -s TERM -k 30 "$TRAIN_SECONDS" python3 GAN_main.py "$MODEL" "$DATASET" "$ITERATIONS" "$BATCH" 1000 "$SAVE_EVERY" \
    --engine "$ENGINE" --seed 0 --no-determinism --no-tensorboard --out "$RUN" $TRAIN_ARGS
rc=$?
echo "train exit $rc"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$ENGINE" != stacked ]; then   # never tried on a GPU before: fall back
    RUN=${RUN}_stacked
    TRAIN_ARGS=$(echo " $TRAIN_ARGS " | sed -E 's/ --fetch-every[ =][0-9]+ / /')   # the compiled engine's alone
    stamp "engine $ENGINE failed: the stacked engine instead"
    # shellcheck disable=SC2086
    timeout -s TERM -k 30 "$TRAIN_SECONDS" python3 GAN_main.py "$MODEL" "$DATASET" "$ITERATIONS" "$BATCH" 1000 \
        "$SAVE_EVERY" --seed 0 --no-determinism --no-tensorboard --out "$RUN" $TRAIN_ARGS
    echo "train exit $?"
fi

stamp "generate $FID_N evaluation images of the last checkpoint"
timeout 120 python3 benchmarks/generated_images.py generate "$RUN" --n "$FID_N" --parts 4 --out "$OUT/images.npz"
fi

if [ "$SPEED_SECONDS" != 0 ]; then   # (timeout 0 would mean no limit)
stamp "train_speed $SPEED_ARGS"
# shellcheck disable=SC2086
timeout -s INT "$SPEED_SECONDS" python3 benchmarks/train_speed.py $SPEED_ARGS --out /tmp/gpu_speed/train_speed_gpu.md
fi
stamp "bundle"
# files of at most 15 MiB: what comes back from the lent machines is at most 8 files of 16 MiB each;
# only what this call made (a warm machine keeps the /tmp of the call before)
parts=()
[ "$TRAIN_SECONDS" != 0 ] && test -d /tmp/gpu_run && parts+=(gpu_run)
[ "$SPEED_SECONDS" != 0 ] && test -d /tmp/gpu_speed && parts+=(gpu_speed)
if [ ${#parts[@]} -gt 0 ]; then
    tar -czf - --exclude=checkpoints -C /tmp "${parts[@]}" | split -b 15M - "$OUT/bundle.tgz.part-"
fi
ls -la "$OUT"
stamp done
