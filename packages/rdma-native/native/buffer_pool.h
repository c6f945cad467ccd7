// Process-wide pool of large RDMC receive buffers. Derecho receives into preregistered buffers;
// here, reusing mapped memory does the same job: a buffer that comes back (the JS side released it
// or it was garbage-collected) is already faulted in, so the next message of that size class lands
// without 25,600 page faults and 100 MiB of kernel zeroing.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dts {

struct PooledBytes {
  uint8_t* data = nullptr;
  uint64_t capacity = 0;  // what to hand back to give()
};

/** Memory for `bytes` (fresh or reused); data is nullptr when out of memory. */
PooledBytes poolTake(uint64_t bytes);
/** Returns memory from poolTake; kept for reuse within the pool's bound, else unmapped. */
void poolGive(PooledBytes bytes);

}  // namespace dts
