#!/usr/bin/env bash
# One prepared GPU check (one H200-class GPU, < 8 minutes): writes gpu_check.json + gpu_check.log.
#
#   benchmarks/gpu_check.sh [--dry-run] [--out DIR] [--python PY] [--wheels DIR] [--only PART] [--with-pytest]
#
# Parts (benchmarks/gpu_check.py; each has its own time limit and records ok / failed / skipped in the JSON):
#   1. vllm-rollouts  real vLLM colocated video rollouts, 3 GRPO steps of the tiny Qwen2.5-VL (spatial-r1 train on the
#                     smoke recipe) with that test's check (vLLM's sampling log-probs = the trainer's, mean < 0.05);
#                     --with-pytest also runs the test itself (+~90 s, over the 8 minutes):
#                     tests/test_trainer_vllm_video.py::test_one_grpo_step_with_colocated_vllm_video_rollouts
#   2. grpo-7b        one GRPO step of a random-weight Qwen2.5-VL-7B at the paper's budget (16 frames, 128*28*28 px,
#                     8 generations, bf16, SGD, gradient checkpointing): s/step and peak memory (benchmarks/rewards.py)
#   3. vsibench-vllm  lmms-eval `vsibench_direct` with --model vllm on that random 7B over the demo's synthetic-scene
#                     videos: questions/s
#
# What the machine needs (the device machines have no internet): a Python with CUDA torch and
#   parts 1, 2: transformers>=5, trl>=1, datasets, qwen-vl-utils, decord, av, and this package (pip install -e .)
#   parts 1, 3: vllm (0.31-0.33, as `make setup-vllm` installs; it pins its own torch), lmms-eval 0.7 for part 3.
# With registry access: `make setup-vllm` and run with --python .venv-vllm/bin/python (the default when it exists).
# Without: carry wheels (pip download --python-version 3.12 --only-binary=:all: -d wheels ...) and pass
# --wheels wheels: they are installed into .venv-gpu-check (system site packages visible, so the machine's torch is
# reused) with pip --no-index. --dry-run checks all this, prints the plan and runs no GPU work.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/gpu_check_out"
PY=""
WHEELS=""
ONLY=""
DRY=0
PARTS=(vllm-rollouts grpo-7b vsibench-vllm)
declare -A LIMIT=([vllm-rollouts]=120 [grpo-7b]=240 [vsibench-vllm]=120)  # seconds: 8 min worst case
PYTEST=0

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dry-run) DRY=1; shift ;;
        --out) OUT="$2"; shift 2 ;;
        --python) PY="$2"; shift 2 ;;
        --wheels) WHEELS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --with-pytest) PYTEST=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu_check.sh: error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -n "$ONLY" && ! " ${PARTS[*]} " =~ \ $ONLY\  ]]; then
    echo "gpu_check.sh: error: --only $ONLY: not one of ${PARTS[*]}" >&2; exit 2
fi
[[ -n "$ONLY" ]] && PARTS=("$ONLY")

if [[ -z "$PY" ]]; then
    if [[ -x "$REPO/.venv-vllm/bin/python" ]]; then PY="$REPO/.venv-vllm/bin/python"; else PY="$(command -v python3)"; fi
fi
if [[ -n "$WHEELS" ]]; then
    [[ -d "$WHEELS" ]] || { echo "gpu_check.sh: error: --wheels $WHEELS: no such folder" >&2; exit 2; }
    VENV="$REPO/.venv-gpu-check"
    if [[ $DRY -eq 1 ]]; then
        echo "plan: install $(find "$WHEELS" -name '*.whl' | wc -l) wheels from $WHEELS into $VENV (--no-index)"
    else
        [[ -x "$VENV/bin/python" ]] || "$PY" -m venv --system-site-packages "$VENV"
        "$VENV/bin/python" -m pip install -q --no-index --find-links "$WHEELS" "$WHEELS"/*.whl 2>&1 | tail -3
        "$VENV/bin/python" -m pip install -q --no-index --no-deps --no-build-isolation -e "$REPO" 2>&1 | tail -3
        PY="$VENV/bin/python"
    fi
fi
[[ -x "$PY" ]] || { echo "gpu_check.sh: error: python $PY not found (--python)" >&2; exit 2; }

mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
JSON="$OUT/gpu_check.json"
: > "$LOG"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
cd "$REPO"

echo "gpu_check: python $PY, output $OUT" | tee -a "$LOG"
PRE="$("$PY" benchmarks/gpu_check.py prereqs --out "$OUT" 2>>"$LOG" | sed -n 's/^GPU_CHECK_RESULT //p')"
[[ -n "$PRE" ]] || { echo "gpu_check.sh: error: the prerequisite check did not run (see $LOG)" >&2; exit 1; }
echo "prereqs: $PRE" >> "$LOG"
runnable() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["runnable"][sys.argv[2]])' "$PRE" "$1"; }
"$PY" - "$PRE" <<'EOF'
import json, sys
pre = json.loads(sys.argv[1])
print("GPU:", pre["gpu"] or "none (CUDA not available)")
print("found:", ", ".join(f"{k} {v}" for k, v in pre["found"].items()))
print("missing:", "; ".join(pre["missing"]) or "nothing")
EOF

echo "plan (limits in seconds):"
for part in "${PARTS[@]}"; do
    echo "  $part: ${LIMIT[$part]} s, runnable here: $(runnable "$part")"
done
if [[ $DRY -eq 1 ]]; then
    echo "dry run: nothing else started"
    exit 0
fi

RESULTS=()
status=0
for part in "${PARTS[@]}"; do
    if [[ "$(runnable "$part")" != "True" ]]; then
        RESULTS+=("{\"part\": \"$part\", \"status\": \"skipped\", \"why\": \"missing prerequisites or no GPU (see prereqs)\"}")
        echo "[$part] skipped: prerequisites missing" | tee -a "$LOG"
        status=1
        continue
    fi
    echo "[$part] running (limit ${LIMIT[$part]} s)" | tee -a "$LOG"
    # shellcheck disable=SC2094  # both only append to the log
    line="$(timeout -k 10 "${LIMIT[$part]}" "$PY" benchmarks/gpu_check.py "$part" --out "$OUT" 2>>"$LOG" \
        | tee -a "$LOG" | sed -n 's/^GPU_CHECK_RESULT //p')" || true
    [[ -n "$line" ]] || line="{\"part\": \"$part\", \"status\": \"failed\", \"error\": \"no result (time limit ${LIMIT[$part]} s or crash, see the log)\"}"
    [[ "$line" == *'"status": "ok"'* ]] || status=1
    RESULTS+=("$line")
    echo "[$part] $line"
    if [[ $PYTEST -eq 1 && "$part" == vllm-rollouts && "$line" == *'"status": "ok"'* ]]; then
        echo "[$part] pytest test_one_grpo_step_with_colocated_vllm_video_rollouts" | tee -a "$LOG"
        if timeout -k 10 120 "$PY" -m pytest -q -rs -p no:randomly -p no:cacheprovider \
            "tests/test_trainer_vllm_video.py::test_one_grpo_step_with_colocated_vllm_video_rollouts" >>"$LOG" 2>&1; then
            RESULTS+=("{\"part\": \"vllm-pytest\", \"status\": \"ok\"}")
        else
            RESULTS+=("{\"part\": \"vllm-pytest\", \"status\": \"failed\", \"error\": \"see the log\"}")
            status=1
        fi
    fi
done

"$PY" - "$JSON" "$PRE" "${RESULTS[@]}" <<'EOF'
import json, os, sys
path, pre, parts = sys.argv[1], json.loads(sys.argv[2]), [json.loads(p) for p in sys.argv[3:]]
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump({"prereqs": pre, "parts": parts}, f, indent=2)
os.replace(tmp, path)
print(f"wrote {path}")
EOF
echo "log: $LOG"
exit $status
