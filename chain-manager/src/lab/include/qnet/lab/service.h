// A server the qnet-lab process runs on its io_context. The process owns the
// services, runs one single-threaded io_context, and on SIGHUP calls
// OnHangup on each; the services stop when the process destroys them.
#pragma once

namespace qnet::lab {

class LabService {
 public:
  virtual ~LabService() = default;
  // SIGHUP: reload whatever the service reads from disk. Default: nothing.
  virtual void OnHangup() {}
};

}  // namespace qnet::lab
