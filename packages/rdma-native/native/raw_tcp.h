// Plain blocking TCP baselines for the fabric benchmark: what the same two processes get from the
// kernel without our framing, threads or JS in the way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dts {

/** A listening socket on host:0; returns the fd and fills the port. Throws on failure. */
int rawListen(const std::string& host, uint16_t* port);
/** Accepts one connection on `listenFd` and serves it until the client closes:
 *  echo mode sends back every `msgBytes` message; sink mode reads a u64 byte count, then that
 *  many bytes, then answers one byte. Closes the accepted socket (not the listener). */
void rawServe(int listenFd, bool echo, size_t msgBytes);
/** `iters` round trips of `msgBytes` each; returns each round trip in microseconds. */
std::vector<double> rawPingPong(const std::string& host, uint16_t port, size_t msgBytes, size_t iters);
/** Streams `totalBytes` over one connection; returns seconds until the receiver confirmed them. */
double rawStream(const std::string& host, uint16_t port, uint64_t totalBytes);

}  // namespace dts
