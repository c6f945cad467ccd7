// Provider-independent pieces: event batches, RDMC buffers, and the registry of compiled-in providers.
#include <cstdlib>

#include "buffer_pool.h"
#include "provider.h"

namespace dts {

std::shared_ptr<RdmcBuffer> RdmcBuffer::allocate(uint64_t bytes) {
  auto b = std::make_shared<RdmcBuffer>();
  PooledBytes p = poolTake(bytes);
  b->data = p.data;
  b->capacity = p.capacity;
  b->size = bytes;
  b->owned = true;
  return b;
}

RdmcBuffer::~RdmcBuffer() {
  if (owned) poolGive({data, capacity});
}

void EventBatch::clear() {
  for (auto& m : p2p) std::free(m.data);
  puts.clear();
  putCount = 0;
  p2p.clear();
  rdmc.clear();
  failures.clear();
  logs.clear();
  connected.clear();
}

EventBatch::~EventBatch() {
  for (auto& m : p2p) std::free(m.data);
}

void EventBatch::appendFrom(EventBatch& o) {
  // The common case is an empty batch (JS took the last one): take o's bytes without copying.
  if (puts.empty()) puts.swap(o.puts);
  else puts.insert(puts.end(), o.puts.begin(), o.puts.end());
  putCount += o.putCount;
  p2p.insert(p2p.end(), o.p2p.begin(), o.p2p.end());
  o.p2p.clear();
  for (auto& r : o.rdmc) rdmc.push_back(std::move(r));
  for (auto& f : o.failures) failures.push_back(std::move(f));
  for (auto& l : o.logs) logs.push_back(std::move(l));
  connected.insert(connected.end(), o.connected.begin(), o.connected.end());
  o.clear();
}

// A libfabric provider will add itself here (under DERECHO_WITH_LIBFABRIC, see binding.gyp).
std::vector<std::string> compiledProviders() { return {"tcp"}; }

std::unique_ptr<Provider> makeProvider(const std::string& name) {
  if (name == "tcp") return makeTcpProvider();
  return nullptr;
}

}  // namespace dts
