#!/usr/bin/env bash
# The GPU measurements of the fast step and the batched environment, as one prepared
# script for a lent accelerator (one call, no network there).
#
# Prepare here, once, in the repository root (both folders are ignored by git):
#   echo /.whl/ >> .git/info/exclude; echo /.data/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl gymnasium stable-baselines3 pydantic pydantic-core annotated-types \
#       typing-inspection pooch platformdirs farama-notifications cloudpickle
#   mkdir -p .data && cp -r ../shared/data/mnist-10k .data/
# Then run it there with `carry: [".whl", ".data"]`, e.g.
#   bash benchmarks/device_checks.sh            (about 6-8 minutes on one H200)
# Knobs (environment): DEVICE (cuda), CONFIGS (mnist-10k), BATCHES ("8 64"), MAX_STEPS
# (whole episodes), THREADS (the episodes' own work; default: the cores), OUT (where results
# go; ./device-out). A dry run here: DEVICE=cpu CONFIGS=digits BATCHES=2 bash benchmarks/...
set -uo pipefail
DEVICE=${DEVICE:-cuda}
CONFIGS=${CONFIGS:-mnist-10k}
BATCHES=${BATCHES:-"8 64"}
THREADS=${THREADS:-$(nproc)}
OUT=${OUT:-device-out}
mkdir -p "$OUT"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
# carried mnist-10k files (there); here the default lookup finds ../shared/data
[ -d .data/mnist-10k ] && export TNF_DATA=$PWD/.data
steps=()
[ -n "${MAX_STEPS:-}" ] && steps=(--max-steps "$MAX_STEPS")

phase() { echo "== $1 ($(date +%T))"; }
phase "machine"
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"
phase "CUDA tests"
python3 -m pytest -q -x -k "cuda or gpu" tests/tnf_env tests/test_bad_inputs.py 2>&1 | tail -5
phase "step: where the time goes ($CONFIGS paper episode on $DEVICE)"
# shellcheck disable=SC2086
timeout 240 python3 benchmarks/bench_env.py --configs $CONFIGS --device "$DEVICE" \
    --json "$OUT/bench_env.json" 2>&1 | tail -40
phase "batched episodes: network-epochs per second (B = $BATCHES)"
# shellcheck disable=SC2086
timeout 300 python3 benchmarks/bench_vec.py --configs $CONFIGS \
    --device "$DEVICE" --batch-sizes $BATCHES --workers 0 --episode-threads "$THREADS" --threaded-only \
    "${steps[@]}" --json "$OUT/bench_vec.json" 2>&1 | tail -30
phase "done"
