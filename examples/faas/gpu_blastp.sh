# The gpu_blastp function's script (examples/faas/gpu_blastp.yaml), run by
# rcuda-fn for each uploaded query with SCAR's variables: the query is
# $INPUT_FILE_PATH, outputs go under $TMP_OUTPUT_DIR; the lease's
# RCUDA_DEVICE_* and RCUDA_TOKEN are in the environment, so rcuda-run sends
# gpu_blastp's CUDA calls to the leased GPU. The output is named after the
# input, so a second run for the same upload (at-least-once) overwrites it.
set -euo pipefail
query=${INPUT_FILE_PATH##*/}
"$RCUDA_RUN" "$GPU_BLASTP_DIR/gpu_blastp" --mode gpu --threads 1 --query "$INPUT_FILE_PATH" \
  --db "$GPU_BLASTP_DIR/db.gbdb" --out "$TMP_OUTPUT_DIR/${query%.*}.tsv" --stats
