#!/usr/bin/env bash
# Every GPU check and benchmark of the project in one run, for a lent GPU machine that has PyTorch but no
# network: installs the pure-Python wheels carried in .gpu-wheels/ (tyro, fvcore, iopath, submitit, ...),
# puts the workspace sources on PYTHONPATH, and writes each command's output to $OUT/<name>.txt.
#   bash tools/gpu-check.sh                        every step (results in docs/benchmarks.md name the card)
#   bash tools/gpu-check.sh contrastive-step ...   only the named steps (a rerun of what failed)
# .gpu-wheels/: python3 -m pip download --no-deps tyro docstring-parser typeguard submitit termcolor yacs, and
# pip wheel --no-deps fvcore iopath (the versions in uv.lock).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vis-gpu-check}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if [ -d .gpu-wheels ]; then "$PY" -m pip install -q --no-index --no-deps .gpu-wheels/*.whl; fi
export PYTHONPATH="$(printf "%s:" "$PWD/core/src" "$PWD"/packages/*/src)" PYTHONUNBUFFERED=1
WANTED=" $* "
step() {
    local name=$1 limit=$2; shift 2
    [ "$WANTED" = "  " ] || [[ "$WANTED" == *" $name "* ]] || return 0
    echo "== $name: $*"
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
    echo "exit $? after $((SECONDS - t0)) s"; tail -25 "$OUT/$name.txt"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
# vis-mocov3 / vis-simsiam: the paper models' step at the per-GPU batch of their recipes (64), and the
# Trainer's CUDA path end to end (SyncBN-free single GPU, bf16 for MoCo v3, the kNN monitor, checkpoints)
step contrastive-step 180 "$PY" benchmarks/contrastive_step.py --device cuda --nproc 1 --batch 64 \
    --input-size 224 --steps 10
step mocov3-tiny-cuda 120 "$PY" -m vis.mocov3.pretrain --recipe tiny --device cuda --precision bf16 --epochs 2 \
    --warmup-epochs 1 --num-workers 4 --output-dir /tmp/vis-gpu-mocov3
step simsiam-tiny-cuda 120 "$PY" -m vis.simsiam.pretrain --recipe tiny --device cuda --epochs 2 \
    --num-workers 4 --output-dir /tmp/vis-gpu-simsiam
# vis-relgraph: the masks are buffers, so the same code runs on the GPU; what FLOPs matching costs in time
step relgraph-tiny-cuda 120 "$PY" -m vis.relgraph.sweep --recipe tiny --device cuda --epochs 2 \
    --output-dir /tmp/vis-gpu-relgraph
step relgraph-step 240 "$PY" benchmarks/relgraph_step.py --device cuda --batch 64 --steps 10 \
    --models mlp cnn resnet34 resnet34sep resnet50
# vis-core / vis-mae
# vis-mae-st: the paper's masking speed-up (Table 1: ViT-L 7.7x FLOPs, 5.8x step time on A100s)
step maest-speedup 240 "$PY" benchmarks/maest_speedup.py --device cuda --sizes base large --batch 4 --steps 5
step engine-overhead 150 "$PY" benchmarks/engine_overhead.py --device cuda --rounds 3
step gpu-mae 330 "$PY" benchmarks/gpu_mae.py --batches 64 128 256
step pretrain-cuda 120 "$PY" -m vis.mae.pretrain --recipe tiny --device cuda --precision bf16 --epochs 3 \
    --num-workers 4 --output-dir /tmp/vis-gpu-tiny
step mae-speedup 150 "$PY" benchmarks/mae_speedup.py --batch 64 --steps 10
step vit-step 120 "$PY" benchmarks/vit_step.py --batch 64 --steps 10
# vis-flip: image + text towers at mask 0 / 0.5 / 0.75 (not yet run on a GPU: no device was lent to the task
# that added them); the tiny recipe's CUDA path with the word tokenizer (open_clip is not among .gpu-wheels)
step flip-speedup 300 "$PY" benchmarks/flip_speedup.py --device cuda --sizes b16 l16 --timed b16 l16 --batch 64 \
    --steps 10 --no-tiny
step flip-tiny-cuda 120 "$PY" -m vis.flip.pretrain --recipe tiny --tokenizer words --device cuda --epochs 2 \
    --num-workers 4 --output-dir /tmp/vis-gpu-flip
# vis-rho: Slow-R50 8x8 step per objective at rho 1..4 (decode share, sequential vs all-at-once peak memory)
# and the tiny recipe's CUDA path (not yet run on a GPU: no device was lent to the task that added them)
step rho-step 300 "$PY" benchmarks/rho_step.py --device cuda --backbone slow-r50 --size 224 --frames 8 --batch 8 \
    --steps 3 --rhos 1 2 4
step rho-tiny-cuda 120 "$PY" -m vis.rho.pretrain --recipe tiny --device cuda --epochs 2 --warmup-epochs 1 \
    --num-workers 4 --output-dir /tmp/vis-gpu-rho
# vis-vitdet: window-only vs 4 global vs all global trunk at 1024 (paper Table 3 ratios), ViT-B Mask R-CNN
# train step / inference at 1024 for batch 1 and 2 with memory (README A100: 10.9 GB, 0.314 s/iter, 0.079 s/img);
# the tiny recipe's CUDA path (not yet run on a GPU: no device was lent to the task that added them)
step vitdet-cost 420 "$PY" benchmarks/vitdet_cost.py --device cuda --size l --img 1024 --window 14 \
    --precision bf16 --steps 5 --detector
step vitdet-tiny-cuda 240 "$PY" -m vis.vitdet.train --recipe tiny --device cuda --epochs 1 --num-workers 4 \
    --output-dir /tmp/vis-gpu-vitdet
# vis-detbench: cost of the FPN against a single-scale neck and of the shared relative position bias against
# none, ViT-L Mask R-CNN at 1024 (paper: FPN +5% train / +10% inference / <1% memory; rel-pos +25% / +15% / +15%);
# the tiny recipe's CUDA path (not yet run on a GPU: no device was lent to the task that added them)
step detbench-cost 420 "$PY" benchmarks/detbench_cost.py --device cuda --size l --img 1024 --window 14 \
    --precision bf16 --steps 5
step detbench-tiny-cuda 240 "$PY" -m vis.detbench.train --recipe tiny --device cuda --epochs 1 --num-workers 4 \
    --output-dir /tmp/vis-gpu-detbench
# vis-rcg: RDM and ADM-style pixel generator at the paper's sizes (RDM 12 x 1536, ADM 256 px): step time and
# sampling throughput (not yet run on a GPU: no device was lent to the task that added them)
step rcg-step 240 "$PY" benchmarks/rcg_step.py --paper --batch 16 --steps 50
