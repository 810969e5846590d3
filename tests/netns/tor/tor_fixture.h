// A real tor for tests: its own temp dir (DataDirectory, ControlSocket,
// torrc), DisableNetwork 1 unless the caller's torrc lines say otherwise,
// killed and its files removed when the object dies (also on failure).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "qnet/base/process.h"
#include "qnet/base/result.h"

namespace qnet::tor::testing {

inline bool TorInstalled() {
  return ::access("/usr/sbin/tor", X_OK) == 0 || ::access("/usr/bin/tor", X_OK) == 0;
}

class TestTor {
 public:
  // extra: torrc lines after the base ones (DataDirectory, ControlSocket,
  // SocksPort 0, DisableNetwork 1, Log notice file).
  explicit TestTor(const std::vector<std::string>& extra) {
    char tmpl[] = "/tmp/qnet-tor-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directory(dir_ + "/data");
    std::filesystem::permissions(dir_ + "/data", std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    std::ofstream rc(dir_ + "/torrc");
    rc << "DataDirectory " << dir_ << "/data\n"
       << "ControlSocket " << dir_ << "/control\n"
       << "SocksPort 0\nDisableNetwork 1\nLog notice file " << dir_ << "/log\n";
    for (const std::string& line : extra) rc << line << "\n";
    rc.close();
    auto child = Spawn(
        {.argv = {"tor", "-f", dir_ + "/torrc", "--ignore-missing-torrc"}, .fds = {-1, -1, -1}});
    if (!child) {
      error_ = child.error().message();
      return;
    }
    child_ = std::move(*child);
    // Ready when the control socket exists; a bad torrc makes tor exit.
    for (int i = 0; i < 200; ++i) {
      if (std::filesystem::exists(control_path())) return;
      if (auto code = child_.WaitFor(std::chrono::milliseconds(50)); code.has_value()) {
        error_ = "tor exited with code " + std::to_string(*code) + ": " + Log();
        return;
      }
    }
    error_ = "tor did not open its control socket within 10 s: " + Log();
  }
  ~TestTor() {
    if (child_.valid()) {
      (void)child_.Kill(SIGTERM);
      if (!child_.WaitFor(std::chrono::seconds(5)).has_value()) (void)child_.Kill(SIGKILL);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestTor(const TestTor&) = delete;
  TestTor& operator=(const TestTor&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string control_path() const { return dir_ + "/control"; }
  const std::string& dir() const { return dir_; }
  std::string Log() const {
    std::ifstream in(dir_ + "/log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_;
  std::string error_;
  ChildProcess child_;
};

}  // namespace qnet::tor::testing
