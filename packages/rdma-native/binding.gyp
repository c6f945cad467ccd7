{
  "variables": {
    "with_libfabric%": "false"
  },
  "targets": [
    {
      "target_name": "derecho_native",
      "sources": ["native/addon.cc", "native/tcp_provider.cc", "native/frame_decoder.cc", "native/rdmc_schedule.cc", "native/sha256.cc", "native/raw_tcp.cc", "native/buffer_pool.cc", "native/provider.cc", "native/tcp_rdmc.cc", "native/tcp_handshake.cc", "native/tcp_frames.cc", "native/tcp_fuzz.cc", "native/frame_fuzzer.cc", "native/tls_session.cc", "native/tcp_tls.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["with_libfabric=='true'", {
          "defines": ["DERECHO_WITH_LIBFABRIC=1"],
          "libraries": ["<!@(pkg-config --libs libfabric)"],
          "cflags_cc": ["<!@(pkg-config --cflags libfabric)"]
        }]
      ]
    }
  ]
}
