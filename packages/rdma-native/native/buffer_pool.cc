#include "buffer_pool.h"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace dts {
namespace {

constexpr uint64_t kPooledMinBytes = 1ull << 20;   // smaller buffers are plain malloc
constexpr uint64_t kClassBytes = 1ull << 20;       // capacities are whole MiB
constexpr uint64_t kMaxPooledBytes = 512ull << 20; // bound on idle memory kept for reuse

struct Pool {
  std::mutex mu;
  std::multimap<uint64_t, uint8_t*> free;  // capacity -> memory
  uint64_t pooledBytes = 0;
};

Pool& pool() {
  // Never destroyed: finalizers of JS buffers may run during process teardown.
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

PooledBytes poolTake(uint64_t bytes) {
  if (bytes < kPooledMinBytes) return {static_cast<uint8_t*>(std::malloc(bytes ? bytes : 1)), 0};
  uint64_t capacity = (bytes + kClassBytes - 1) / kClassBytes * kClassBytes;
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lk(p.mu);
    auto it = p.free.find(capacity);
    if (it != p.free.end()) {
      uint8_t* data = it->second;
      p.free.erase(it);
      p.pooledBytes -= capacity;
      return {data, capacity};
    }
  }
  void* m = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return {nullptr, 0};
  return {static_cast<uint8_t*>(m), capacity};
}

void poolGive(PooledBytes b) {
  if (!b.data) return;
  if (b.capacity == 0) {
    std::free(b.data);
    return;
  }
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lk(p.mu);
    if (p.pooledBytes + b.capacity <= kMaxPooledBytes) {
      p.free.emplace(b.capacity, b.data);
      p.pooledBytes += b.capacity;
      return;
    }
  }
  munmap(b.data, b.capacity);
}

}  // namespace dts
