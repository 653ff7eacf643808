#!/usr/bin/env bash
# Every GPU check and benchmark of the project in one run, for a lent GPU machine that has PyTorch but no
# network: installs the pure-Python wheels carried in .gpu-wheels/ (tyro, fvcore, iopath, submitit, ...),
# puts the workspace sources on PYTHONPATH, and writes each command's output to $OUT/<name>.txt.
#   bash tools/gpu-check.sh            (results in docs/benchmarks.md name the card they came from)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vis-gpu-check}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if [ -d .gpu-wheels ]; then "$PY" -m pip install -q --no-index --no-deps .gpu-wheels/*.whl; fi
export PYTHONPATH="$PWD/core/src:$PWD/packages/mae/src"
step() {
    local name=$1; shift
    echo "== $name: $*"
    timeout 420 "$@" > "$OUT/$name.txt" 2>&1
    echo "exit $?"; tail -25 "$OUT/$name.txt"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
step pretrain-cuda "$PY" -m vis.mae.pretrain --recipe tiny --device cuda --precision bf16 --epochs 3 \
    --num-workers 4 --output-dir /tmp/vis-gpu-tiny
step gpu-mae "$PY" benchmarks/gpu_mae.py --batches 64 128 256
step engine-overhead "$PY" benchmarks/engine_overhead.py --device cuda --rounds 3
step mae-speedup "$PY" benchmarks/mae_speedup.py --batch 64 --steps 10
step vit-step "$PY" benchmarks/vit_step.py --batch 64 --steps 10
