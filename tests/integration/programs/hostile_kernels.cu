// Kernels the hostile-peer tests (tests/integration/hostile_*_test.cc) load
// through a raw client: built into a fatbinary that the test sends as a
// ModuleLoad. Their host versions (test backend, fake driver) are in
// fault_test_kernels.cc.

#include <cstdio>

// Spins for `ns` nanoseconds of the GPU's global timer (fault_probe.cu's).
extern "C" __global__ void fault_sleep(long long ns) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < static_cast<unsigned long long>(ns));
}

// A module global: its memory is the module's, charged to the session.
__device__ int hostile_global[1 << 20];

// Adds `v` to the first element of hostile_global.
extern "C" __global__ void hostile_bump(int v) { hostile_global[0] += v; }

// Prints `bytes` bytes (rounded down to lines of 63 'p' and a newline):
// device output a tenant can make as large as it likes.
extern "C" __global__ void hostile_print(long long bytes) {
  for (long long i = 0; i + 64 <= bytes; i += 64) {
    printf("ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\n");
  }
}
