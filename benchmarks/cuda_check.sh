#!/usr/bin/env bash
# The CUDA checks, in one run on a machine with an NVIDIA GPU (results under ${OUT:-/tmp/cuda-check}):
# the reference must score full marks on cpu and cuda, the stub zero, each known mistake must be named on cuda too;
# then the start-up benchmark and the cost of the extra CUDA pass.
#   bash benchmarks/cuda_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/cuda-check}; mkdir -p "$OUT"
export PYTHONPATH=$PWD AUTOGRADER_SECRET=cuda-check PYTHONUNBUFFERED=1
GRADE="python3 -m autograder run"
nvidia-smi -L
python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0))"
summary() { python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(sys.argv[2], d['sandbox'], d['devices'], f\"{d['points']:g}/{d['max_points']:g}\",
      sorted({c['mistake']['id'] for t in d['topics'] for c in t['checks'] if c['mistake']}))" "$1" "$2"; }
for who in solutions exercises examples/submission; do
  name=$(basename "$who")
  TIMEFORMAT="$name --device all: %R s"; time $GRADE "$who" --device all --format json -o "$OUT/$name.json" > "$OUT/$name.txt" 2>"$OUT/$name.err"
  summary "$OUT/$name.json" "$name"
done
head -4 "$OUT/solutions.txt"; grep -h -A3 "sandbox could not\|Traceback\|  ! " "$OUT"/*.txt "$OUT"/*.err | head -20
TIMEFORMAT="solutions --device cpu: %R s"; time $GRADE solutions --device cpu > /dev/null 2>"$OUT/cpu.err"
mkdir -p /tmp/mistakes
for f in tests/submissions/convolution/*.py; do
  name=$(basename "$f" .py); mkdir -p "/tmp/mistakes/$name"; cp "$f" "/tmp/mistakes/$name/convolution.py"
  $GRADE "/tmp/mistakes/$name" --device cuda --format json -o "$OUT/mistake-$name.json" > /dev/null 2>&1
  summary "$OUT/mistake-$name.json" "$name"
done
grep -h "\[cuda\]" "$OUT"/*.txt | head -5
python3 benchmarks/startup.py --repeat 3 2>&1 | tail -12
