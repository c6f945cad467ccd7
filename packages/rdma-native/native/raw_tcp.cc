#include "raw_tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace dts {
namespace {
bool readAll(int fd, void* p, size_t n) {
  uint8_t* b = static_cast<uint8_t*>(p);
  while (n > 0) {
    ssize_t r = recv(fd, b, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= size_t(r);
  }
  return true;
}
bool writeAll(int fd, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= size_t(w);
  }
  return true;
}
int dial(const std::string& host, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    throw std::runtime_error("raw connect: " + std::string(strerror(e)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
}  // namespace

int rawListen(const std::string& host, uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 4) != 0) {
    int e = errno;
    close(fd);
    throw std::runtime_error("raw listen: " + std::string(strerror(e)));
  }
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *port = ntohs(sa.sin_port);
  return fd;
}

void rawServe(int listenFd, bool echo, size_t msgBytes) {
  int fd = accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (echo) {
    std::vector<uint8_t> buf(msgBytes ? msgBytes : 1);
    while (readAll(fd, buf.data(), msgBytes) && writeAll(fd, buf.data(), msgBytes)) {
    }
  } else {
    uint64_t total;
    if (readAll(fd, &total, sizeof total)) {
      std::vector<uint8_t> buf(1 << 20);
      uint64_t got = 0;
      while (got < total) {
        ssize_t r = recv(fd, buf.data(), buf.size(), 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += uint64_t(r);
      }
      uint8_t ok = 1;
      writeAll(fd, &ok, 1);
      readAll(fd, &ok, 1);  // until the client closes
    }
  }
  close(fd);
}

std::vector<double> rawPingPong(const std::string& host, uint16_t port, size_t msgBytes, size_t iters) {
  int fd = dial(host, port);
  std::vector<uint8_t> buf(msgBytes ? msgBytes : 1, 7);
  std::vector<double> out;
  out.reserve(iters);
  for (size_t i = 0; i < iters; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!writeAll(fd, buf.data(), msgBytes) || !readAll(fd, buf.data(), msgBytes)) break;
    auto t1 = std::chrono::steady_clock::now();
    out.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  close(fd);
  return out;
}

double rawStream(const std::string& host, uint16_t port, uint64_t totalBytes) {
  int fd = dial(host, port);
  std::vector<uint8_t> buf(1 << 20, 3);
  auto t0 = std::chrono::steady_clock::now();
  writeAll(fd, &totalBytes, sizeof totalBytes);
  uint64_t sent = 0;
  while (sent < totalBytes) {
    size_t n = size_t(std::min<uint64_t>(buf.size(), totalBytes - sent));
    if (!writeAll(fd, buf.data(), n)) break;
    sent += n;
  }
  uint8_t ok = 0;
  readAll(fd, &ok, 1);
  auto t1 = std::chrono::steady_clock::now();
  close(fd);
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace dts
