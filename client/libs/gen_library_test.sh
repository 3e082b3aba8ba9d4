#!/usr/bin/env bash
# gen_library.py fails loudly on a description that is not true to the
# headers or the real library (each case must fail, with its message).
#   gen_library_test.sh PYTHON GEN_LIBRARY DESCRIPTION REAL_LIBRARY INCLUDE_DIR \
#                       [CURAND_DESCRIPTION CURAND_REAL_LIBRARY [CUFFT_DESCRIPTION CUFFT_REAL_LIBRARY
#                        [CUSPARSE_DESCRIPTION CUSPARSE_REAL_LIBRARY]]]
# (cuRAND's description adds the by-value kinds u32, u64, f32, f64; cuFFT's
# int handles and hooks; cuSPARSE's handle classes and typed scalars.)
set -euo pipefail
python=$1 gen=$2 description=$3 real=$4 include=$5
curand_description=${6:-} curand_real=${7:-}
cufft_description=${8:-} cufft_real=${9:-}
cusparse_description=${10:-} cusparse_real=${11:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect_failure NAME MESSAGE SED-EXPRESSION: the description edited by the
# expression must be refused with MESSAGE.
expect_failure() {
  local name=$1 message=$2 expression=$3
  sed -E "$expression" "$description" > "$tmp/$name.def"
  if cmp -s "$description" "$tmp/$name.def"; then
    echo "FAILED $name: the edit changed nothing"; failures=$((failures + 1)); return
  fi
  if "$python" "$gen" "$tmp/$name.def" --real-library "$real" --include-dir "$include" \
       --exports "$tmp/$name.cc" > "$tmp/$name.out" 2>&1; then
    echo "FAILED $name: accepted"; failures=$((failures + 1))
  elif ! grep -q -- "$message" "$tmp/$name.out"; then
    echo "FAILED $name: refused without '$message':"; cat "$tmp/$name.out"; failures=$((failures + 1))
  else
    echo "ok $name: $(tail -1 "$tmp/$name.out")"
  fi
}

expect_failure renamed_argument "are not the prototype's" 's/^forward cublasSaxpy_v2 \(handle: handle, n:/forward cublasSaxpy_v2 (handle: handle, count:/'
expect_failure missing_argument "are not the prototype's" 's/, ldc: i32\)$/)/'
expect_failure unknown_function "is not an export" 's/^forward cublasSscal_v2/forward cublasSscal_v9/'
expect_failure unknown_kind "bad argument" 's/mode: enum\)$/mode: pointer)/'
expect_failure wrong_soname "has SONAME" 's/soname=libcublas.so.13/soname=libcublas.so.12/'
expect_failure unknown_enumerator "is not an enumerator" 's/not_supported=CUBLAS_STATUS_NOT_SUPPORTED/not_supported=CUBLAS_STATUS_NOPE/'
expect_failure scalar_without_handle "needs the function's handle" 's/^forward cublasSaxpy_v2 \(handle: handle,/forward cublasSaxpy_v2 (handle: i64,/'
expect_failure no_wire_id "needs wire_id=" 's/ wire_id=1//'
expect_failure unparsable_line "cannot parse" 's/^forward cublasSetMathMode \(/forward cublasSetMathMode [/'
# The Ex GEMMs' scalars are typed by an enum and a dtype argument; a dtype is
# a cudaDataType.
expect_failure compute_scalar_names_int "must be an enum and a dtype argument" 's/^(forward cublasGemmEx \(.*)alpha: scalar.compute\(computeType,Ctype\)/\1alpha: scalar.compute(computeType,ldc)/'
expect_failure dtype_not_a_data_type "the kind dtype is for" 's/^(forward cublasGemmEx \(.*), lda: i32, B:/\1, lda: dtype, B:/'
# A local function is an export the real library has, and not also forwarded.
expect_failure local_not_an_export "(local) is not an export" 's/^local cublasGetStatusName$/local cublasGetStatusNameX/'
expect_failure local_and_forwarded "is both forwarded and local" 's/^local cublasGetStatusName$/local cublasSgemm_v2/'

# And the description itself is accepted.
if ! "$python" "$gen" "$description" --real-library "$real" --include-dir "$include" --exports "$tmp/ok.cc" > "$tmp/ok.out" 2>&1; then
  echo "FAILED: the committed description is refused:"; cat "$tmp/ok.out"; failures=$((failures + 1))
fi

if [ -n "$curand_description" ]; then
  description=$curand_description real=$curand_real
  # A by-value kind must be the prototype's type: a float described as an
  # int would reach the library in the wrong register.
  expect_failure float_as_int "which only the kind f32 passes" 's/, mean: f32, stddev: f32\)$/, mean: i32, stddev: f32)/'
  expect_failure double_as_float "the kind f32 is for float" 's/, lambda: f64\)$/, lambda: f32)/'
  expect_failure size_as_u32 "the kind u32 is for unsigned int" 's/, num: u64\)$/, num: u32)/'
  if ! "$python" "$gen" "$description" --real-library "$real" --include-dir "$include" --exports "$tmp/ok.cc" > "$tmp/ok.out" 2>&1; then
    echo "FAILED: the committed cuRAND description is refused:"; cat "$tmp/ok.out"; failures=$((failures + 1))
  fi
fi
if [ -n "$cufft_description" ]; then
  description=$cufft_description real=$cufft_real
  # Hooks name only the function's arguments or constants; a device pointer
  # whose range a hook checks needs that hook; int handles, hooks' header.
  expect_failure hook_unknown_argument "is neither an argument nor a constant" 's/then=ForgetPlan\(plan\)$/then=ForgetPlan(plans)/'
  expect_failure hook_range_unchecked "needs the function's check= hook" 's/ check=CheckWorkArea\(plan,workArea\)$//'
  expect_failure hooks_without_header "needs hooks_header=" 's/ hooks_header=server\/cufft_plans.h//'
  expect_failure handle_type_unknown "handle_type=long" 's/handle_type=int/handle_type=long/'
  expect_failure size_out_as_int "the kind u64.out is for" 's/^forward cufftGetVersion \(version: i32.out\)/forward cufftGetVersion (version: u64.out)/'
  if ! "$python" "$gen" "$description" --real-library "$real" --include-dir "$include" --exports "$tmp/ok.cc" > "$tmp/ok.out" 2>&1; then
    echo "FAILED: the committed cuFFT description is refused:"; cat "$tmp/ok.out"; failures=$((failures + 1))
  fi
fi
if [ -n "$cusparse_description" ]; then
  description=$cusparse_description real=$cusparse_real
  # Each handle class has its one destroyer (what the worker calls at the
  # session's end); a typed scalar names an enum argument of its function.
  expect_failure class_without_destroyer "handle.del(dnvec)" '/^forward cusparseDestroyDnVec /d'
  expect_failure class_misspelled "handle.del(dnvecs)" 's/^(forward cusparseSpMV \(.*)vecX: handle\(dnvec\)/\1vecX: handle(dnvecs)/'
  expect_failure typed_scalar_unknown_argument "not an enum argument" 's/^(forward cusparseSpMV \(.*)alpha: scalar.typed\(computeType\)/\1alpha: scalar.typed(algorithm)/'
  expect_failure typed_scalar_not_enum "not an enum argument" 's/^(forward cusparseSpMV \(.*)alpha: scalar.typed\(computeType\)/\1alpha: scalar.typed(externalBuffer)/'
  if ! "$python" "$gen" "$description" --real-library "$real" --include-dir "$include" --exports "$tmp/ok.cc" > "$tmp/ok.out" 2>&1; then
    echo "FAILED: the committed cuSPARSE description is refused:"; cat "$tmp/ok.out"; failures=$((failures + 1))
  fi
fi
[ "$failures" -eq 0 ] && echo PASSED || { echo "$failures FAILED"; exit 1; }
