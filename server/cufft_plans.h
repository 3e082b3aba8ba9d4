// What the worker knows of a session's cuFFT plans (client/libs/cufft.def's
// hooks): an Exec's device ranges depend on its plan's shape, which only the
// plan call saw. When a plan call succeeds the worker records the plan's
// type, dimensions, batch and work size by the plan's session id; Exec and
// SetWorkArea are checked against that record and the session's memory
// before cuFFT runs them. An unplanned handle, a plan of another type than
// the Exec's, or a range outside the session's memory is refused (the
// library's invalid-value status). Sizes are computed in 128-bit
// arithmetic, refused above 64 bits, whatever the recorded shape.
//
// The basic layouts (Plan1d/2d/3d, MakePlan1d/2d/3d, PlanMany without
// embeds): contiguous batches, the real side of R2C/C2R the dense nx*ny*nz
// reals, the complex side nx*ny*(nz/2+1) (the last dimension halved). And
// PlanMany's advanced layout: each side's span from its embed, stride and
// distance (PlanShape).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "common/allocation_table.h"

namespace rcuda::library {
class LibraryCallContext;
}

namespace rcuda::library::cufft {

struct PlanShape {
  int type = 0;             // cufftType: CUFFT_C2C, CUFFT_R2C, ...
  int rank = 0;             // 1, 2 or 3
  int64_t n[3] = {1, 1, 1};  // the first `rank` are the dimensions
  int64_t batch = 1;
  uint64_t work_size = 0;   // bytes of work area (cufftGetSize)
  uint64_t work_area = 0;   // the device pointer SetWorkArea gave, 0 if none
  // cufftPlanMany's advanced layout (both embeds given; otherwise the basic
  // one): element (i_0.., batch b) of a side lies at
  // b*dist + stride*(sum_d i_d * prod_{e>d} embed[e]) elements.
  bool advanced = false;
  int64_t in_embed[3] = {1, 1, 1}, in_stride = 1, in_dist = 0;
  int64_t out_embed[3] = {1, 1, 1}, out_stride = 1, out_dist = 0;
};

// The bytes an Exec of `shape` reads from its input and writes to its
// output; false for an unknown type, a non-positive dimension or batch, or a
// size above 64 bits.
bool ExecBytes(const PlanShape& shape, uint64_t* in, uint64_t* out);

// The session's plans, by their session id.
class PlanTable {
 public:
  void Record(int64_t plan, const PlanShape& shape) { plans_[plan] = shape; }
  void Forget(int64_t plan) { plans_.erase(plan); }
  PlanShape* Find(int64_t plan);

  // An Exec of `type` on `plan` from `idata` to `odata` may run: the plan is
  // recorded with that type, both ranges (and a work area it was given) lie
  // in `memory`.
  bool ExecAllowed(const AllocationTable& memory, int64_t plan, int type, uint64_t idata, uint64_t odata);
  // SetWorkArea(plan, area) may run: a recorded plan whose work size lies in
  // `memory` from `area` (remembered, for its Execs).
  bool WorkAreaAllowed(const AllocationTable& memory, int64_t plan, uint64_t area);

 private:
  std::unordered_map<int64_t, PlanShape> plans_;
};

// ---- The hooks client/libs/cufft.def names (0 or the library's status) ----

// After a plan call succeeded: records the shape and asks cuFFT the plan's
// work size (cufftGetSize). A shape it cannot record leaves the plan
// unplanned for the worker (its Execs are refused).
int RecordPlan(LibraryCallContext& c, int64_t plan, int rank, int64_t nx, int64_t ny, int64_t nz, int64_t type,
               int64_t batch);
// The same for PlanMany and MakePlanMany: n, inembed, onembed are `rank`
// ints or null (null embeds: the basic layout, as cuFFT ignores the
// advanced parameters then).
int RecordPlanMany(LibraryCallContext& c, int64_t plan, int64_t rank, const int* n, const int* inembed,
                   int64_t istride, int64_t idist, const int* onembed, int64_t ostride, int64_t odist, int64_t type,
                   int64_t batch);
// The same for MakePlanMany64 (arrays of long longs).
int RecordPlanMany64(LibraryCallContext& c, int64_t plan, int64_t rank, const long long* n, const long long* inembed,
                     int64_t istride, int64_t idist, const long long* onembed, int64_t ostride, int64_t odist,
                     int64_t type, int64_t batch);
// Before PlanMany: a rank of 1 to 3 and its dimensions (cuFFT reads n).
int CheckManyShape(LibraryCallContext& c, int64_t rank, const int* n);
int CheckManyShape64(LibraryCallContext& c, int64_t rank, const long long* n);
// Before MakePlanMany: ForgetPlan, then CheckManyShape.
int ReplanMany(LibraryCallContext& c, int64_t plan, int64_t rank, const int* n);
int ReplanMany64(LibraryCallContext& c, int64_t plan, int64_t rank, const long long* n);
// Before a MakePlan re-plans the handle (whatever the call does, the old
// shape no longer holds) and after Destroy.
int ForgetPlan(LibraryCallContext& c, int64_t plan);
int CheckExec(LibraryCallContext& c, int64_t plan, int type, int64_t idata, int64_t odata);
int CheckWorkArea(LibraryCallContext& c, int64_t plan, int64_t work_area);

}  // namespace rcuda::library::cufft
