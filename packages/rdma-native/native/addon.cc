// The N-API binding: one Endpoint object per fabric endpoint, backed by a Provider. Region memory is
// JS ArrayBuffers; the I/O thread never touches it. Remote writes are applied here, on the JS
// thread, in poll() — which is what keeps predicate evaluation in JS race-free.
#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "debug_assert.h"
#include "frame_decoder.h"
#include "provider.h"
#include "raw_tcp.h"
#include "rdmc_schedule.h"
#include "sha256.h"

namespace dts {
namespace {

constexpr uint64_t kDefaultMaxHeldBytes = 64ull << 20;

uint32_t toU32(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != double(uint64_t(d)))
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be an integer in 0..2^32-1, got " + std::to_string(d));
  return uint32_t(d);
}

std::vector<uint32_t> toU32Array(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<uint32_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = toU32(a.Get(i), what);
  return out;
}

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    default: return "error";
  }
}

// ---- RDMC buffers handed to JS ----
// JS gets the very buffer the blocks were received into (zero copies), as an external ArrayBuffer.
// Its finalizer, or an explicit release() (which detaches the ArrayBuffer first, so JS can no
// longer reach the memory), drops our reference; the memory then goes back to the buffer pool
// once the I/O thread no longer forwards from it. V8 is told about the external memory so that
// unreleased buffers still get collected promptly.
struct ExposedBuffer {
  std::shared_ptr<RdmcBuffer> buffer;
  int64_t accountedBytes;
};
std::mutex gExposedMu;
std::unordered_map<const void*, ExposedBuffer*>& exposed() {
  static auto* m = new std::unordered_map<const void*, ExposedBuffer*>();  // outlives every env
  return *m;
}

Napi::ArrayBuffer ExposeRdmcBuffer(Napi::Env env, const std::shared_ptr<RdmcBuffer>& buf) {
  auto* e = new ExposedBuffer{buf, int64_t(buf->size)};
  {
    std::lock_guard<std::mutex> lk(gExposedMu);
    exposed()[buf->data] = e;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, e->accountedBytes);
  return Napi::ArrayBuffer::New(
      env, buf->data, buf->size,
      [](Napi::Env env, void* data, ExposedBuffer* e) {
        {
          std::lock_guard<std::mutex> lk(gExposedMu);
          auto it = exposed().find(data);
          if (it != exposed().end() && it->second == e) exposed().erase(it);
        }
        if (e->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, -e->accountedBytes);
        delete e;
      },
      e);
}

/** releaseRdmcBuffer(arrayBuffer): true when it was an exposed RDMC buffer, now detached. */
Napi::Value ReleaseRdmcBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) return Napi::Boolean::New(env, false);
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  void* data = ab.Data();
  if (!data) return Napi::Boolean::New(env, false);  // already detached
  ExposedBuffer* e = nullptr;
  {
    std::lock_guard<std::mutex> lk(gExposedMu);
    auto it = exposed().find(data);
    if (it == exposed().end()) return Napi::Boolean::New(env, false);
    e = it->second;
    exposed().erase(it);
  }
  ab.Detach();
  Napi::MemoryManagement::AdjustExternalMemory(env, -e->accountedBytes);
  e->accountedBytes = 0;
  e->buffer.reset();  // back to the pool (now, or when the I/O thread is done forwarding)
  return Napi::Boolean::New(env, true);
}

struct Region {
  Napi::Reference<Napi::ArrayBuffer> ref;
  uint8_t* data = nullptr;
  uint32_t rowBytes = 0;
  std::vector<uint32_t> members;
  std::unordered_map<uint32_t, uint32_t> rowOf;
  uint32_t myRow = 0;
  std::vector<uint8_t> changedFlag;
  std::vector<uint32_t> changedRows;
};

class Endpoint : public Napi::ObjectWrap<Endpoint> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Endpoint",
                       {InstanceMethod("port", &Endpoint::Port), InstanceMethod("provider", &Endpoint::ProviderName),
                        InstanceMethod("connect", &Endpoint::Connect), InstanceMethod("createRegion", &Endpoint::CreateRegion),
                        InstanceMethod("closeRegion", &Endpoint::CloseRegion), InstanceMethod("put", &Endpoint::Put),
                        InstanceMethod("sendP2P", &Endpoint::SendP2P), InstanceMethod("poll", &Endpoint::Poll),
                        InstanceMethod("createRdmcGroup", &Endpoint::CreateRdmcGroup),
                        InstanceMethod("destroyRdmcGroup", &Endpoint::DestroyRdmcGroup),
                        InstanceMethod("rdmcSend", &Endpoint::RdmcSend), InstanceMethod("failPeer", &Endpoint::FailPeer),
                        InstanceMethod("connectedPeers", &Endpoint::ConnectedPeers), InstanceMethod("stats", &Endpoint::Stats),
                        InstanceMethod("_fuzzForTest", &Endpoint::FuzzForTest), InstanceMethod("flush", &Endpoint::Flush), InstanceMethod("ref", &Endpoint::Ref),
                        InstanceMethod("unref", &Endpoint::Unref), InstanceMethod("close", &Endpoint::Close)});
  }

  explicit Endpoint(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Endpoint>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Endpoint options must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    ProviderConfig cfg;
    cfg.nodeId = toU32(o.Get("nodeId"), "nodeId");
    if (o.Get("host").IsString()) cfg.host = o.Get("host").As<Napi::String>().Utf8Value();
    if (o.Get("port").IsNumber()) {
      uint32_t p = toU32(o.Get("port"), "port");
      if (p > 65535) throw Napi::RangeError::New(env, "port must be 0..65535");
      cfg.port = uint16_t(p);
    }
    if (!o.Get("buildHash").IsString()) throw Napi::TypeError::New(env, "buildHash must be a string");
    cfg.buildHash = o.Get("buildHash").As<Napi::String>().Utf8Value();
    if (cfg.buildHash.size() > kMaxBuildHashBytes) throw Napi::RangeError::New(env, "buildHash is longer than 256 bytes");
    // One secret, or several during a rotation ([new, old]): any is accepted, the first preferred.
    Napi::Value secret = o.Get("secret");
    if (secret.IsString()) {
      cfg.secrets.push_back(secret.As<Napi::String>().Utf8Value());
    } else if (secret.IsArray()) {
      Napi::Array list = secret.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); ++i) {
        if (!list.Get(i).IsString()) throw Napi::TypeError::New(env, "secret must be a string or an array of strings");
        cfg.secrets.push_back(list.Get(i).As<Napi::String>().Utf8Value());
      }
      if (cfg.secrets.empty() || cfg.secrets.size() > kMaxSecrets)
        throw Napi::RangeError::New(env, "secret: give 1 to " + std::to_string(kMaxSecrets) + " secrets");
    } else {
      throw Napi::TypeError::New(env, "secret must be a string or an array of strings");
    }
    if (o.Get("tls").IsObject()) {
      Napi::Object tls = o.Get("tls").As<Napi::Object>();
      for (const char* key : {"ca", "cert", "key"})
        if (!tls.Get(key).IsString()) throw Napi::TypeError::New(env, std::string("tls.") + key + " must be a PEM string");
      cfg.tlsCaPem = tls.Get("ca").As<Napi::String>().Utf8Value();
      cfg.tlsCertPem = tls.Get("cert").As<Napi::String>().Utf8Value();
      cfg.tlsKeyPem = tls.Get("key").As<Napi::String>().Utf8Value();
    }
    if (o.Get("heartbeatTimeoutMs").IsNumber()) cfg.heartbeatTimeoutMs = toU32(o.Get("heartbeatTimeoutMs"), "heartbeatTimeoutMs");
    if (o.Get("handshakeTimeoutMs").IsNumber()) cfg.handshakeTimeoutMs = toU32(o.Get("handshakeTimeoutMs"), "handshakeTimeoutMs");
    if (o.Get("batchPuts").IsBoolean()) cfg.batchPuts = o.Get("batchPuts").As<Napi::Boolean>().Value();
    if (o.Get("busyPollWindowMs").IsNumber()) cfg.busyPollWindowMs = toU32(o.Get("busyPollWindowMs"), "busyPollWindowMs");
    if (o.Get("receiveOnJsThread").IsBoolean()) cfg.receiveOnJsThread = o.Get("receiveOnJsThread").As<Napi::Boolean>().Value();
    if (o.Get("blockedLoopLimitMs").IsNumber()) cfg.blockedLoopLimitMs = toU32(o.Get("blockedLoopLimitMs"), "blockedLoopLimitMs");
    if (o.Get("lingerMs").IsNumber()) cfg.lingerMs = toU32(o.Get("lingerMs"), "lingerMs");
    if (o.Get("maxPendingHandshakes").IsNumber()) cfg.maxPendingHandshakes = toU32(o.Get("maxPendingHandshakes"), "maxPendingHandshakes");
    if (cfg.maxPendingHandshakes == 0) throw Napi::RangeError::New(env, "maxPendingHandshakes must be at least 1");
    if (o.Get("handshakesPerSecondPerAddress").IsNumber())
      cfg.handshakesPerSecondPerAddress = toU32(o.Get("handshakesPerSecondPerAddress"), "handshakesPerSecondPerAddress");
    if (cfg.handshakesPerSecondPerAddress == 0) throw Napi::RangeError::New(env, "handshakesPerSecondPerAddress must be at least 1");
    if (o.Get("maxHeldBytes").IsNumber()) maxHeldBytes_ = toU32(o.Get("maxHeldBytes"), "maxHeldBytes");
    if (!o.Get("onWake").IsFunction()) throw Napi::TypeError::New(env, "onWake must be a function");
    nodeId_ = cfg.nodeId;
    tsfn_ = Napi::ThreadSafeFunction::New(env, o.Get("onWake").As<Napi::Function>(), "derecho-fabric-wake", 0, 1);
    std::string providerName = o.Get("provider").IsString() ? o.Get("provider").As<Napi::String>().Utf8Value() : compiledProviders()[0];
    provider_ = makeProvider(providerName);
    if (!provider_) {
      tsfn_.Release();
      std::string known;
      for (const auto& n : compiledProviders()) known += (known.empty() ? "" : ", ") + n;
      throw Napi::Error::New(env, "provider \"" + providerName + "\" is not compiled into this build (available: " + known + ")");
    }
    Napi::ThreadSafeFunction* tsfn = &tsfn_;
    try {
      port_ = provider_->start(cfg, [tsfn] { tsfn->NonBlockingCall(); });
    } catch (const std::exception& e) {
      provider_.reset();
      tsfn_.Release();
      throw Napi::Error::New(env, e.what());
    }
    napi_add_env_cleanup_hook(env, &Endpoint::CleanupHook, this);
    env_ = env;
    if (provider_->jsReadyFd() >= 0) WatchSockets(env, o.Get("onWake").As<Napi::Function>());
  }

  ~Endpoint() override { Shutdown(false); }

 private:
  static void CleanupHook(void* arg) { static_cast<Endpoint*>(arg)->Shutdown(true); }

  /** receiveOnJsThread: the event loop wakes this thread straight from the sockets. */
  void WatchSockets(Napi::Env env, Napi::Function onWake) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    wakeFn_ = Napi::Persistent(onWake);
    asyncCtx_ = std::make_unique<Napi::AsyncContext>(env, "derecho-fabric-receive");
    jsReady_ = new uv_poll_t;
    uv_poll_init(loop, jsReady_, provider_->jsReadyFd());
    jsReady_->data = this;
    uv_poll_start(jsReady_, UV_READABLE, &Endpoint::OnSocketsReady);
  }

  static void OnSocketsReady(uv_poll_t* handle, int /*status*/, int /*events*/) {
    Endpoint* self = static_cast<Endpoint*>(handle->data);
    if (self == nullptr || self->closed_) return;
    self->provider_->clearJsReady();
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    try {
      self->wakeFn_.MakeCallback(env.Global(), {}, *self->asyncCtx_);
    } catch (const Napi::Error& e) {
      // As from a thread-safe function: an exception in the handler is the process's to handle.
      napi_fatal_exception(env, e.Value());
    }
  }

  void StopWatchingSockets() {
    if (jsReady_ == nullptr) return;
    jsReady_->data = nullptr;
    uv_poll_stop(jsReady_);
    uv_close(reinterpret_cast<uv_handle_t*>(jsReady_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    jsReady_ = nullptr;
  }

  void Shutdown(bool fromHook) {
    if (closed_) return;
    closed_ = true;
    // Before the provider closes the fd it watches.
    StopWatchingSockets();
    if (provider_) provider_->close();
    provider_.reset();
    tsfn_.Release();
    if (!fromHook) napi_remove_env_cleanup_hook(env_, &Endpoint::CleanupHook, this);
    regions_.clear();
    held_.clear();
    rdmcSending_.clear();
  }

  void CheckOpen(Napi::Env env) {
    if (closed_) throw Napi::Error::New(env, "the endpoint is closed");
  }

  Napi::Value Port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }
  Napi::Value ProviderName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), provider_ ? provider_->name() : "closed");
  }

  Napi::Value Connect(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    uint32_t node = toU32(info[0], "nodeId");
    if (!info[1].IsString()) throw Napi::TypeError::New(info.Env(), "host must be a string");
    uint32_t port = toU32(info[2], "port");
    if (port == 0 || port > 65535) throw Napi::RangeError::New(info.Env(), "port must be 1..65535");
    provider_->connect(node, info[1].As<Napi::String>().Utf8Value(), uint16_t(port));
    return info.Env().Undefined();
  }

  // createRegion(regionId, rowBytes, members) -> { buffer, myRow, heldApplied }
  Napi::Value CreateRegion(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t id = toU32(info[0], "regionId");
    uint32_t rowBytes = toU32(info[1], "rowBytes");
    std::vector<uint32_t> members = toU32Array(info[2], "members");
    if (regions_.count(id)) throw Napi::Error::New(env, "region " + std::to_string(id) + " already exists");
    if (rowBytes == 0) throw Napi::RangeError::New(env, "rowBytes must be at least 1");
    auto r = std::make_unique<Region>();
    bool found = false;
    for (uint32_t i = 0; i < members.size(); ++i) {
      if (!r->rowOf.emplace(members[i], i).second)
        throw Napi::Error::New(env, "members lists node " + std::to_string(members[i]) + " twice");
      if (members[i] == nodeId_) {
        r->myRow = i;
        found = true;
      }
    }
    if (!found) throw Napi::Error::New(env, "members must include this node (" + std::to_string(nodeId_) + ")");
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, size_t(rowBytes) * members.size());
    std::memset(ab.Data(), 0, ab.ByteLength());
    // Initial contents go in before any held write: a peer that started the view earlier may
    // already have written its row, and those bytes must not be overwritten by initialization.
    if (info.Length() > 3 && info[3].IsTypedArray()) {
      Napi::Uint8Array init = info[3].As<Napi::Uint8Array>();
      if (init.ByteLength() != ab.ByteLength())
        throw Napi::RangeError::New(env, "initialContents must be exactly rowBytes x members (" + std::to_string(ab.ByteLength()) + " bytes), got " + std::to_string(init.ByteLength()));
      std::memcpy(ab.Data(), init.Data(), init.ByteLength());
    }
    provider_->expectPeers(members);
    r->ref = Napi::Persistent(ab);
    r->data = static_cast<uint8_t*>(ab.Data());
    r->rowBytes = rowBytes;
    r->members = members;
    r->changedFlag.assign(members.size(), 0);
    Region& reg = *r;
    regions_[id] = std::move(r);
    closedRegions_.erase(id);
    uint32_t heldApplied = 0;
    auto h = held_.find(id);
    if (h != held_.end()) {
      std::vector<uint8_t> records = std::move(h->second);
      held_.erase(h);
      size_t at = 0;
      while (at < records.size()) {
        PutRecordHeader rh;
        std::memcpy(&rh, records.data() + at, sizeof rh);
        size_t len = sizeof rh + rh.rangeCount * sizeof(PutRange) + rh.dataBytes;
        heldBytes_[rh.from] -= len;
        ApplyRecord(reg, id, rh, records.data() + at + sizeof rh);
        at += len;
        ++heldApplied;
      }
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("buffer", ab);
    out.Set("myRow", reg.myRow);
    out.Set("heldApplied", heldApplied);
    return out;
  }

  Napi::Value CloseRegion(const Napi::CallbackInfo& info) {
    uint32_t id = toU32(info[0], "regionId");
    regions_.erase(id);
    closedRegions_.insert(id);
    auto h = held_.find(id);
    if (h != held_.end()) held_.erase(h);
    return info.Env().Undefined();
  }

  // put(regionId, ranges: [offset, length][], targets: number[], completion: boolean)
  Napi::Value Put(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t id = toU32(info[0], "regionId");
    auto it = regions_.find(id);
    if (it == regions_.end()) throw Napi::Error::New(env, "put on unknown or closed region " + std::to_string(id));
    Region& r = *it->second;
    if (!info[1].IsArray()) throw Napi::TypeError::New(env, "ranges must be an array of [offsetInRow, byteLength] pairs");
    Napi::Array ranges = info[1].As<Napi::Array>();
    uint32_t n = ranges.Length();
    if (n == 0 || n > kMaxPutRanges) throw Napi::RangeError::New(env, "ranges must hold 1.." + std::to_string(kMaxPutRanges) + " pairs");
    ranges_.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      Napi::Value pv = ranges.Get(i);
      if (!pv.IsArray()) throw Napi::TypeError::New(env, "ranges[" + std::to_string(i) + "] must be [offsetInRow, byteLength]");
      Napi::Array p = pv.As<Napi::Array>();
      uint32_t off = toU32(p.Get(uint32_t(0)), "range offset");
      uint32_t len = toU32(p.Get(uint32_t(1)), "range length");
      if (len == 0 || uint64_t(off) + len > r.rowBytes)
        throw Napi::RangeError::New(env, "ranges[" + std::to_string(i) + "] = [" + std::to_string(off) + ", " + std::to_string(len) +
                                             "] is empty or outside the " + std::to_string(r.rowBytes) + "-byte row");
      ranges_[i] = {off, len};
    }
    if (!info[2].IsArray()) throw Napi::TypeError::New(env, "targets must be an array of node ids");
    Napi::Array t = info[2].As<Napi::Array>();
    targets_.resize(t.Length());
    for (uint32_t i = 0; i < t.Length(); ++i) targets_[i] = toU32(t.Get(i), "target node id");
    bool completion = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    bool batched = provider_->put(id, r.data + size_t(r.myRow) * r.rowBytes, ranges_.data(), n, targets_.data(), targets_.size(), completion);
    return Napi::Boolean::New(env, batched);
  }

  Napi::Value SendP2P(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t node = toU32(info[0], "nodeId");
    iov_.clear();
    auto add = [&](const Napi::Value& v, const std::string& what) {
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw Napi::TypeError::New(env, what + " must be a Uint8Array");
      Napi::Uint8Array u = v.As<Napi::Uint8Array>();
      iov_.push_back({u.Data(), u.ByteLength()});
    };
    if (info[1].IsArray()) {
      Napi::Array a = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) add(a.Get(i), "data[" + std::to_string(i) + "]");
    } else {
      add(info[1], "data");
    }
    try {
      return Napi::Boolean::New(env, provider_->sendP2P(node, iov_.data(), iov_.size()));
    } catch (const std::exception& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

  Napi::Value CreateRdmcGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t id = toU32(info[0], "groupId");
    std::vector<uint32_t> members = toU32Array(info[1], "members");
    uint32_t blockBytes = toU32(info[2], "blockBytes");
    if (members.empty()) throw Napi::RangeError::New(env, "members must not be empty");
    if (blockBytes == 0 || blockBytes > kMaxBlockBytes)
      throw Napi::RangeError::New(env, "blockBytes must be 1.." + std::to_string(kMaxBlockBytes) + ", got " + std::to_string(blockBytes));
    bool found = false;
    std::unordered_set<uint32_t> seen;
    for (uint32_t m : members) {
      if (!seen.insert(m).second) throw Napi::Error::New(env, "members lists node " + std::to_string(m) + " twice");
      found |= m == nodeId_;
    }
    if (!found) throw Napi::Error::New(env, "members must include this node (" + std::to_string(nodeId_) + ")");
    if (rdmcGroups_.count(id)) throw Napi::Error::New(env, "rdmc group " + std::to_string(id) + " already exists");
    rdmcGroups_[id] = members;
    rdmcBlockBytes_[id] = blockBytes;
    provider_->rdmcCreateGroup(id, members, blockBytes);
    return env.Undefined();
  }

  Napi::Value DestroyRdmcGroup(const Napi::CallbackInfo& info) {
    uint32_t id = toU32(info[0], "groupId");
    if (!closed_) provider_->rdmcDestroyGroup(id);
    rdmcGroups_.erase(id);
    rdmcBlockBytes_.erase(id);
    // Sends still queued are released only after the I/O thread dropped the group: keep them
    // until close() (the I/O thread may still be writing from them).
    return info.Env().Undefined();
  }

  Napi::Value RdmcSend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t id = toU32(info[0], "groupId");
    auto g = rdmcGroups_.find(id);
    if (g == rdmcGroups_.end()) throw Napi::Error::New(env, "unknown rdmc group " + std::to_string(id));
    if (g->second[0] != nodeId_) throw Napi::Error::New(env, "only the group's first member (node " + std::to_string(g->second[0]) + ") sends in rdmc group " + std::to_string(id));
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "data must be a Uint8Array");
    Napi::Uint8Array u = info[1].As<Napi::Uint8Array>();
    uint64_t blocks = rdmcBlockCount(u.ByteLength(), rdmcBlockBytes_[id]);
    if (blocks > kMaxRdmcBlocks || u.ByteLength() > kMaxRdmcMessageBytes)
      throw Napi::RangeError::New(env, "an rdmc message of " + std::to_string(u.ByteLength()) + " bytes has " + std::to_string(blocks) +
                                           " blocks of " + std::to_string(rdmcBlockBytes_[id]) + " bytes; at most " + std::to_string(kMaxRdmcBlocks) +
                                           " are allowed: use a larger blockBytes for this group");
    auto buf = std::make_shared<RdmcBuffer>();
    buf->data = u.Data();
    buf->size = u.ByteLength();
    buf->owned = false;
    rdmcSending_[id].push_back(Napi::Persistent(u));
    provider_->rdmcSend(id, buf);
    return env.Undefined();
  }

  // _fuzzForTest(frameType, count, seed, authenticated, { nodeIds, groupIds, regionIds }) -> FuzzStats
  Napi::Value FuzzForTest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    uint32_t type = toU32(info[0], "frameType");
    if (type < uint32_t(FrameType::Hello) || type > uint32_t(FrameType::RdmcDone)) throw Napi::RangeError::New(env, "frameType must be 1..9");
    uint64_t count = uint64_t(info[1].As<Napi::Number>().DoubleValue());
    uint64_t seed = uint64_t(info[2].As<Napi::Number>().DoubleValue());
    bool authenticated = info[3].ToBoolean().Value();
    FuzzTargets t;
    t.selfId = nodeId_;
    if (info[4].IsObject()) {
      Napi::Object o = info[4].As<Napi::Object>();
      if (o.Has("nodeIds")) t.nodeIds = toU32Array(o.Get("nodeIds"), "nodeIds");
      if (o.Has("groupIds")) t.groupIds = toU32Array(o.Get("groupIds"), "groupIds");
      if (o.Has("regionIds")) t.regionIds = toU32Array(o.Get("regionIds"), "regionIds");
    }
    FuzzStats st = provider_->fuzzForTest(FrameType(type), count, seed, authenticated, t);
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", Napi::Number::New(env, double(st.frames)));
    out.Set("connections", Napi::Number::New(env, double(st.connections)));
    out.Set("dropped", Napi::Number::New(env, double(st.dropped)));
    return out;
  }

  Napi::Value FailPeer(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    bool routine = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    provider_->failPeer(toU32(info[0], "nodeId"), info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "failed by the application",
                        routine ? LogLevel::Info : LogLevel::Error);
    return info.Env().Undefined();
  }

  Napi::Value ConnectedPeers(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env());
    if (closed_) return a;
    auto peers = provider_->connectedPeers();
    for (uint32_t i = 0; i < peers.size(); ++i) a.Set(i, peers[i]);
    return a;
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    if (!closed_) provider_->flush();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    ProviderStats st = closed_ ? ProviderStats{} : provider_->stats();
    o.Set("putsReceivedByIoThread", Napi::Number::New(info.Env(), double(st.putsReceivedByIoThread)));
    o.Set("putsReceivedInline", Napi::Number::New(info.Env(), double(st.putsReceivedInline)));
    return o;
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (!closed_) tsfn_.Ref(info.Env());
    if (!closed_ && jsReady_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(jsReady_));
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (!closed_) tsfn_.Unref(info.Env());
    if (!closed_ && jsReady_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(jsReady_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown(false);
    return info.Env().Undefined();
  }

  void MarkChanged(Region& r, uint32_t row) {
    if (!r.changedFlag[row]) {
      r.changedFlag[row] = 1;
      r.changedRows.push_back(row);
    }
  }

  // Applies one remote write; false when it was malformed for this region (the writer is failed).
  bool ApplyRecord(Region& r, uint32_t regionId, const PutRecordHeader& h, const uint8_t* body) {
    auto row = r.rowOf.find(h.from);
    if (row == r.rowOf.end() || row->second == r.myRow) {
      pendingLogs_.push_back({LogLevel::Error, "node " + std::to_string(nodeId_) + ": node " + std::to_string(h.from) +
                                                   " wrote to region " + std::to_string(regionId) + " but owns no row in it (field regionId)"});
      provider_->failPeer(h.from, "wrote to a region it owns no row in");
      return false;
    }
    const PutRange* ranges = reinterpret_cast<const PutRange*>(body);
    for (uint32_t i = 0; i < h.rangeCount; ++i) {
      PutRange pr;
      std::memcpy(&pr, ranges + i, sizeof pr);
      if (uint64_t(pr.offset) + pr.length > r.rowBytes) {
        pendingLogs_.push_back({LogLevel::Error, "node " + std::to_string(nodeId_) + ": node " + std::to_string(h.from) +
                                                     " wrote outside its " + std::to_string(r.rowBytes) + "-byte row of region " +
                                                     std::to_string(regionId) + " (field ranges: offset " + std::to_string(pr.offset) +
                                                     ", length " + std::to_string(pr.length) + ")"});
        provider_->failPeer(h.from, "wrote outside its row");
        return false;
      }
    }
    uint8_t* dst = r.data + size_t(row->second) * r.rowBytes;
    const uint8_t* src = body + h.rangeCount * sizeof(PutRange);
    const uint8_t* end = src + h.dataBytes;
    for (uint32_t i = 0; i < h.rangeCount; ++i) {
      PutRange pr;
      std::memcpy(&pr, ranges + i, sizeof pr);
      DTS_ASSERT(uint64_t(pr.offset) + pr.length <= r.rowBytes && src + pr.length <= end, "a put range inside its row and its record");
      std::memcpy(dst + pr.offset, src, pr.length);
      src += pr.length;
    }
    MarkChanged(r, row->second);
    touched_.push_back(regionId);
    return true;
  }

  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return env.Undefined();
    bool inlineReceive = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    batch_.clear();
    provider_->drain(batch_, inlineReceive);
    // Nothing arrived (the common case in a busy-polling loop): no result object at all.
    if (batch_.empty() && touched_.empty() && pendingLogs_.empty()) return env.Undefined();
    Napi::Object out = Napi::Object::New(env);
    out.Set("writes", ApplyWrites());
    out.Set("changed", ChangedRows(env));
    out.Set("p2p", P2PMessages(env));
    out.Set("rdmc", RdmcMessages(env));
    out.Set("failures", Failures(env));
    out.Set("logs", Logs(env));
    out.Set("connected", Connected(env));
    return out;
  }

  // Applies the batch's remote writes in arrival order (per writer this is issue order: one FIFO
  // connection); writes for regions not created yet are held. Returns how many were applied.
  uint32_t ApplyWrites() {
    uint32_t applied = 0;
    size_t at = 0;
    const std::vector<uint8_t>& p = batch_.puts;
    while (at < p.size()) {
      PutRecordHeader h;
      std::memcpy(&h, p.data() + at, sizeof h);
      size_t len = sizeof h + h.rangeCount * sizeof(PutRange) + h.dataBytes;
      DTS_ASSERT(at + len <= p.size(), "a put record of " + std::to_string(len) + " bytes inside a batch of " + std::to_string(p.size() - at));
      const uint8_t* body = p.data() + at + sizeof h;
      at += len;
      auto it = regions_.find(h.regionId);
      if (it != regions_.end()) {
        if (ApplyRecord(*it->second, h.regionId, h, body)) ++applied;
        continue;
      }
      if (closedRegions_.count(h.regionId)) continue;  // a write for a region we closed: dropped
      uint64_t& held = heldBytes_[h.from];
      if (held + len > maxHeldBytes_) {
        pendingLogs_.push_back({LogLevel::Error, "node " + std::to_string(nodeId_) + ": more than " + std::to_string(maxHeldBytes_) +
                                                     " bytes of writes from node " + std::to_string(h.from) +
                                                     " wait for regions not created here; failing the connection"});
        provider_->failPeer(h.from, "too many writes held for regions not created");
        continue;
      }
      held += len;
      auto& v = held_[h.regionId];
      v.insert(v.end(), p.data() + at - len, p.data() + at);
    }
    return applied;
  }

  Napi::Array ChangedRows(Napi::Env env) {
    Napi::Array changed = Napi::Array::New(env);
    uint32_t ci = 0;
    for (uint32_t id : touched_) {
      auto it = regions_.find(id);
      if (it == regions_.end() || it->second->changedRows.empty()) continue;
      Region& r = *it->second;
      Napi::Array rows = Napi::Array::New(env, r.changedRows.size());
      for (uint32_t i = 0; i < r.changedRows.size(); ++i) {
        rows.Set(i, r.changedRows[i]);
        r.changedFlag[r.changedRows[i]] = 0;
      }
      r.changedRows.clear();
      Napi::Object c = Napi::Object::New(env);
      c.Set("regionId", id);
      c.Set("rows", rows);
      changed.Set(ci++, c);
    }
    touched_.clear();
    return changed;
  }

  Napi::Array P2PMessages(Napi::Env env) {
    Napi::Array p2p = Napi::Array::New(env, batch_.p2p.size());
    for (uint32_t i = 0; i < batch_.p2p.size(); ++i) {
      P2PMessage& m = batch_.p2p[i];
      Napi::ArrayBuffer ab = m.len == 0 ? Napi::ArrayBuffer::New(env, 0)
                                        : Napi::ArrayBuffer::New(env, m.data, m.len, [](Napi::Env, void* d) { std::free(d); });
      if (m.len == 0) std::free(m.data);
      m.data = nullptr;
      Napi::Object o = Napi::Object::New(env);
      o.Set("from", m.from);
      o.Set("data", Napi::Uint8Array::New(env, m.len, ab, 0));
      p2p.Set(i, o);
    }
    batch_.p2p.clear();
    return p2p;
  }

  Napi::Array RdmcMessages(Napi::Env env) {
    Napi::Array rdmc = Napi::Array::New(env, batch_.rdmc.size());
    for (uint32_t i = 0; i < batch_.rdmc.size(); ++i) {
      RdmcDelivery& d = batch_.rdmc[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("groupId", d.groupId);
      o.Set("sender", d.sender);
      o.Set("index", Napi::Number::New(env, double(d.index)));
      Napi::Value data;
      if (d.ownMessage) {
        auto& q = rdmcSending_[d.groupId];
        if (!q.empty()) {
          data = q.front().Value();
          q.pop_front();
        } else {
          data = Napi::Uint8Array::New(env, 0);
        }
      } else if (d.buffer->size == 0) {
        data = Napi::Uint8Array::New(env, 0);
      } else {
        data = Napi::Uint8Array::New(env, d.buffer->size, ExposeRdmcBuffer(env, d.buffer), 0);
      }
      o.Set("data", data);
      o.Set("ownMessage", d.ownMessage);
      rdmc.Set(i, o);
    }
    return rdmc;
  }

  Napi::Array Failures(Napi::Env env) {
    Napi::Array failures = Napi::Array::New(env, batch_.failures.size());
    for (uint32_t i = 0; i < batch_.failures.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("nodeId", batch_.failures[i].nodeId);
      o.Set("reason", batch_.failures[i].reason);
      o.Set("refused", batch_.failures[i].refused);
      failures.Set(i, o);
    }
    return failures;
  }

  Napi::Array Logs(Napi::Env env) {
    for (auto& l : pendingLogs_) batch_.logs.push_back(std::move(l));
    pendingLogs_.clear();
    Napi::Array logs = Napi::Array::New(env, batch_.logs.size());
    for (uint32_t i = 0; i < batch_.logs.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("level", levelName(batch_.logs[i].level));
      o.Set("message", batch_.logs[i].message);
      logs.Set(i, o);
    }
    return logs;
  }

  Napi::Array Connected(Napi::Env env) {
    Napi::Array connected = Napi::Array::New(env, batch_.connected.size());
    for (uint32_t i = 0; i < batch_.connected.size(); ++i) connected.Set(i, batch_.connected[i]);
    return connected;
  }

  Napi::Env env_{nullptr};
  std::unique_ptr<Provider> provider_;
  Napi::ThreadSafeFunction tsfn_;
  Napi::FunctionReference wakeFn_;
  std::unique_ptr<Napi::AsyncContext> asyncCtx_;
  uv_poll_t* jsReady_ = nullptr;
  uint32_t nodeId_ = 0;
  uint16_t port_ = 0;
  bool closed_ = false;
  uint64_t maxHeldBytes_ = kDefaultMaxHeldBytes;
  std::unordered_map<uint32_t, std::unique_ptr<Region>> regions_;
  std::unordered_set<uint32_t> closedRegions_;
  std::unordered_map<uint32_t, std::vector<uint8_t>> held_;
  std::unordered_map<uint32_t, uint64_t> heldBytes_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> rdmcGroups_;
  std::unordered_map<uint32_t, uint32_t> rdmcBlockBytes_;
  std::unordered_map<uint32_t, std::deque<Napi::Reference<Napi::Uint8Array>>> rdmcSending_;
  std::vector<uint32_t> touched_;
  std::vector<LogLine> pendingLogs_;
  std::vector<PutRange> ranges_;
  std::vector<uint32_t> targets_;
  std::vector<iovec> iov_;
  EventBatch batch_;
};

// ---- test hooks and benchmark baselines ----

struct CountingSink : FrameDecoder::Sink {
  bool onFrame(const FrameHeader&, const uint8_t*, const uint8_t*) override { return true; }
};

Napi::Value DecodeFramesForTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "bytes must be a Uint8Array");
  Napi::Uint8Array u = info[0].As<Napi::Uint8Array>();
  FrameDecoder dec;
  // Decodes as an authenticated connection would unless asked for the pre-handshake rules.
  dec.setAuthenticated(!(info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value() == false));
  CountingSink sink;
  // Fed in uneven slices so the incremental paths (split headers, split payloads) run too.
  size_t chunk = info[1].IsNumber() ? std::max<size_t>(1, info[1].As<Napi::Number>().Uint32Value()) : u.ByteLength();
  bool ok = true;
  for (size_t at = 0; at < u.ByteLength() && ok; at += chunk) ok = dec.feed(u.Data() + at, std::min(chunk, u.ByteLength() - at), sink);
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", Napi::Number::New(env, double(dec.framesDecoded())));
  out.Set("error", ok ? env.Null() : Napi::String::New(env, dec.error()));
  out.Set("complete", ok && dec.atBoundary());
  return out;
}

Napi::Value RdmcScheduleForTest(const Napi::CallbackInfo& info) {
  uint32_t n = toU32(info[0], "members");
  uint32_t blocks = toU32(info[1], "blocks");
  uint64_t steps = 0;
  std::string err = rdmcVerifySchedule(n, blocks, &steps);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("steps", Napi::Number::New(info.Env(), double(steps)));
  out.Set("error", err.empty() ? info.Env().Null() : Napi::String::New(info.Env(), err));
  return out;
}

Napi::Value HmacForTest(const Napi::CallbackInfo& info) {
  Napi::Uint8Array key = info[0].As<Napi::Uint8Array>();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), 32);
  ByteSpan part{data.Data(), data.ByteLength()};
  hmacSha256(key.Data(), key.ByteLength(), &part, 1, out.Data());
  return out;
}

Napi::Value Sha256ForTest(const Napi::CallbackInfo& info) {
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), 32);
  Sha256 h;
  h.update(data.Data(), data.ByteLength());
  h.finish(out.Data());
  return out;
}

Napi::Value RawListen(const Napi::CallbackInfo& info) {
  std::string host = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "127.0.0.1";
  uint16_t port = 0;
  int fd;
  try {
    fd = rawListen(host, &port);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("fd", fd);
  o.Set("port", port);
  return o;
}

Napi::Value RawServe(const Napi::CallbackInfo& info) {
  int fd = int(toU32(info[0], "fd"));
  bool echo = info[1].As<Napi::String>().Utf8Value() == "echo";
  size_t msgBytes = info[2].IsNumber() ? toU32(info[2], "msgBytes") : 0;
  rawServe(fd, echo, msgBytes);
  return info.Env().Undefined();
}

Napi::Value RawClose(const Napi::CallbackInfo& info) {
  ::close(int(toU32(info[0], "fd")));
  return info.Env().Undefined();
}

Napi::Value RawPingPong(const Napi::CallbackInfo& info) {
  std::vector<double> rtts;
  try {
    rtts = rawPingPong(info[0].As<Napi::String>().Utf8Value(), uint16_t(toU32(info[1], "port")), toU32(info[2], "msgBytes"),
                       toU32(info[3], "iterations"));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), rtts.size());
  for (size_t i = 0; i < rtts.size(); ++i) out[i] = rtts[i];
  return out;
}

Napi::Value RawStream(const Napi::CallbackInfo& info) {
  try {
    double s = rawStream(info[0].As<Napi::String>().Utf8Value(), uint16_t(toU32(info[1], "port")),
                         uint64_t(info[2].As<Napi::Number>().DoubleValue()));
    return Napi::Number::New(info.Env(), s);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Array providers = Napi::Array::New(env);
  std::vector<std::string> names = compiledProviders();
  for (uint32_t i = 0; i < names.size(); ++i) providers.Set(i, names[i]);
  exports.Set("providers", providers);
  exports.Set("protocolVersion", kProtocolVersion);
  exports.Set("Endpoint", Endpoint::Define(env));
  exports.Set("releaseRdmcBuffer", Napi::Function::New(env, ReleaseRdmcBuffer));
  exports.Set("_decodeFramesForTest", Napi::Function::New(env, DecodeFramesForTest));
  exports.Set("_rdmcScheduleForTest", Napi::Function::New(env, RdmcScheduleForTest));
  exports.Set("_hmacSha256ForTest", Napi::Function::New(env, HmacForTest));
  exports.Set("_sha256ForTest", Napi::Function::New(env, Sha256ForTest));
  exports.Set("rawListen", Napi::Function::New(env, RawListen));
  exports.Set("rawServe", Napi::Function::New(env, RawServe));
  exports.Set("rawClose", Napi::Function::New(env, RawClose));
  exports.Set("rawPingPong", Napi::Function::New(env, RawPingPong));
  exports.Set("rawStream", Napi::Function::New(env, RawStream));
  return exports;
}

}  // namespace dts

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return dts::Init(env, exports); }

NODE_API_MODULE(derecho_native, InitModule)
