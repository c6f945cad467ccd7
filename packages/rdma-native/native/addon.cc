// Entry point of the native data plane. Placeholder until the TCP provider lands.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("providers", Napi::String::New(env, "tcp"));
  return exports;
}

NODE_API_MODULE(derecho_native, Init)
