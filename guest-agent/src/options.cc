#include "qnet/agent/options.h"

#include <charconv>
#include <functional>
#include <map>

namespace qnet::agent {
namespace {

Result<int> ParseInt(std::string_view flag, std::string_view text) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    return Fail(Errc::kInvalidArgument, fmt::format("{}: '{}' is not a number", flag, text));
  return v;
}

using Setter = std::function<Status(Options&, std::string_view)>;

const std::map<std::string, Setter, std::less<>>& Flags() {
  static const std::map<std::string, Setter, std::less<>> kFlags = {
      {"--instance",
       [](Options& o, std::string_view v) {
         o.instance = v;
         return OkStatus();
       }},
      {"--qube",
       [](Options& o, std::string_view v) {
         o.qube = v;
         return OkStatus();
       }},
      {"--control-fd",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(o.control_fd, ParseInt("--control-fd", v));
         return OkStatus();
       }},
      {"--listen-fd",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(o.listen_fd, ParseInt("--listen-fd", v));
         return OkStatus();
       }},
      {"--ipv6",
       [](Options& o, std::string_view v) -> Status {
         if (v != "off" && v != "routed")
           return Fail(Errc::kInvalidArgument, fmt::format("--ipv6: '{}' is not off|routed", v));
         o.ipv6 = v == "routed";
         return OkStatus();
       }},
      {"--tun",
       [](Options& o, std::string_view v) -> Status {
         if (v != "off" && v != "on")
           return Fail(Errc::kInvalidArgument, fmt::format("--tun: '{}' is not on|off", v));
         o.tun = v == "on";
         return OkStatus();
       }},
#ifdef QNET_TEST_HOOKS
      {"--hold-lockdown",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(o.hold_lockdown_seconds, ParseInt("--hold-lockdown", v));
         return OkStatus();
       }},
      {"--refresh-floor",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(o.refresh_floor_seconds, ParseInt("--refresh-floor", v));
         return OkStatus();
       }},
#endif
      {"--user",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(int uid, ParseInt("--user", v));
         o.user_uid = static_cast<uid_t>(uid);
         o.user_gid = static_cast<gid_t>(uid);
         return OkStatus();
       }},
      {"--containment-fd",
       [](Options& o, std::string_view v) -> Status {
         QNET_ASSIGN_OR_RETURN(o.containment_fd, ParseInt("--containment-fd", v));
         return OkStatus();
       }},
  };
  return kFlags;
}

}  // namespace

std::vector<std::string> Options::ToArgv(const std::string& program,
                                         const std::string& new_mode) const {
  std::vector<std::string> argv = {program,        new_mode,
                                   "--instance",   instance,
                                   "--qube",       qube,
                                   "--control-fd", std::to_string(control_fd),
                                   "--listen-fd",  std::to_string(listen_fd),
                                   "--ipv6",       ipv6 ? "routed" : "off",
                                   "--user",       std::to_string(user_uid)};
  // The containment (host paths, id base) is the init's alone, read from
  // its fd: nothing of it reaches the agent's command line.
  if (tun) {
    argv.push_back("--tun");
    argv.push_back("on");
  }
#ifdef QNET_TEST_HOOKS
  if (hold_lockdown_seconds > 0) {
    argv.push_back("--hold-lockdown");
    argv.push_back(std::to_string(hold_lockdown_seconds));
  }
  if (refresh_floor_seconds > 0) {
    argv.push_back("--refresh-floor");
    argv.push_back(std::to_string(refresh_floor_seconds));
  }
#endif
  return argv;
}

Result<Options> ParseOptions(int argc, char** argv) {
  if (argc < 2) return Fail(Errc::kInvalidArgument, "usage: qnet-agent init|agent --qube NAME ...");
  Options o;
  o.mode = argv[1];
  if (o.mode != "init" && o.mode != "agent")
    return Fail(Errc::kInvalidArgument, fmt::format("unknown mode '{}' (init|agent)", o.mode));
  for (int i = 2; i < argc; i += 2) {
    std::string_view flag = argv[i];
    auto it = Flags().find(flag);
    if (it == Flags().end())
      return Fail(Errc::kInvalidArgument, fmt::format("unknown flag {}", flag));
    if (i + 1 >= argc) return Fail(Errc::kInvalidArgument, fmt::format("{} needs a value", flag));
    QNET_TRY(it->second(o, argv[i + 1]));
  }
  if (o.qube.empty()) return Fail(Errc::kInvalidArgument, "--qube is required");
  if (o.control_fd < 0) return Fail(Errc::kInvalidArgument, "--control-fd is required");
  return o;
}

}  // namespace qnet::agent
