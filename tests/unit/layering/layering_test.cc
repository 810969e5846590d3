// The module table of docs/architecture.md, enforced: every `#include "qnet/<short>/..."`
// and every `qnet::<short>` / `qnet_<short>` link edge in a module must
// point to a module that module may depend on (Tor's check-includes idea).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Short name -> module directory.
const std::map<std::string, std::string> kModuleOf = {
    {"base", "netvm-core"},   {"netlink", "netvm-core"},   {"nft", "netvm-core"},
    {"qube", "netvm-core"},   {"runtime", "netvm-core"},   {"qrexec", "netvm-core"},
    {"config", "netvm-core"}, {"firewall", "firewall"},    {"vpn", "vpn-proxy"},
    {"tor", "tor-gateway"},   {"agent", "guest-agent"},    {"chain", "chain-manager"},
    {"lab", "chain-manager"}, {"labsrv", "chain-manager"},
};

// Module -> the modules it may depend on (itself included).
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"netvm-core", {"netvm-core"}},
    {"firewall", {"netvm-core", "firewall"}},
    {"vpn-proxy", {"netvm-core", "vpn-proxy"}},
    {"tor-gateway", {"netvm-core", "tor-gateway"}},
    {"guest-agent", {"netvm-core", "firewall", "vpn-proxy", "tor-gateway", "guest-agent"}},
    // The admin side never depends on the qube side: what qnetd and the
    // agents exchange is netvm-core's protocol (qube/agent_config.h), and
    // qnetd only runs the qnet-agent program.
    {"chain-manager", {"netvm-core", "firewall", "vpn-proxy", "tor-gateway", "chain-manager"}},
};

// Modules whose sources must not name another module's directory (an
// include path or a relative include reaching into its sources).
const std::map<std::string, std::vector<std::string>> kForbiddenDirs = {
    {"chain-manager", {"guest-agent"}},
};

std::vector<std::string> Violations(const fs::path& tree, const std::string& module) {
  std::vector<std::string> out;
  const std::regex include_re(R"re(#\s*include\s*[<"]qnet/([a-z]+)/)re");
  const std::regex link_re(R"re(qnet(?:::|_)([a-z]+)\b)re");
  const fs::path root = tree / module;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string();
    const bool cmake = entry.path().filename() == "CMakeLists.txt";
    if (!cmake && ext != ".h" && ext != ".cc") continue;
    std::ifstream in(entry.path());
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (auto dirs = kForbiddenDirs.find(module); dirs != kForbiddenDirs.end()) {
        const bool names_path = cmake || line.find("#include") != std::string::npos;
        for (const std::string& dir : dirs->second)
          if (names_path && line.find(dir) != std::string::npos)
            out.push_back(fmt::format("{}:{}: {} -> {} (sources)",
                                      fs::relative(entry.path(), tree).string(), line_no, module,
                                      dir));
      }
      const std::regex& re = cmake ? link_re : include_re;
      for (std::sregex_iterator it(line.begin(), line.end(), re), end; it != end; ++it) {
        const std::string short_name = (*it)[1];
        auto target = kModuleOf.find(short_name);
        if (target == kModuleOf.end()) continue;  // not a module library (e.g. qnet_unit_test)
        if (!kAllowed.at(module).contains(target->second))
          out.push_back(fmt::format("{}:{}: {} -> {} ({})",
                                    fs::relative(entry.path(), tree).string(), line_no, module,
                                    target->second, short_name));
      }
    }
  }
  return out;
}

TEST(Layering, EveryIncludeAndLinkEdgeIsAllowedByDesign) {
  for (const auto& [module, allowed] : kAllowed) {
    ASSERT_TRUE(fs::exists(fs::path(QNET_SOURCE_DIR) / module)) << module;
    auto bad = Violations(QNET_SOURCE_DIR, module);
    EXPECT_TRUE(bad.empty()) << fmt::format("{}", fmt::join(bad, "\n"));
  }
}

TEST(Layering, TheCheckSeesForbiddenIncludesAndLinks) {
  // Positive control on a scratch tree: a role module including another,
  // and core linking a role module, are both reported.
  const fs::path tree = fs::temp_directory_path() / fmt::format("qnet-layering-{}", ::getpid());
  fs::create_directories(tree / "firewall/src");
  fs::create_directories(tree / "netvm-core");
  std::ofstream(tree / "firewall/src/x.cc") << "#include \"qnet/vpn/config_key.h\"\n";
  std::ofstream(tree / "netvm-core/CMakeLists.txt") << "target_link_libraries(a qnet::agent)\n";
  EXPECT_EQ(Violations(tree, "firewall"),
            std::vector<std::string>{"firewall/src/x.cc:1: firewall -> vpn-proxy (vpn)"});
  EXPECT_EQ(
      Violations(tree, "netvm-core"),
      std::vector<std::string>{"netvm-core/CMakeLists.txt:1: netvm-core -> guest-agent (agent)"});
  fs::remove_all(tree);
}

TEST(Layering, ChainManagerIncludesNothingOfTheAgent) {
  // The protocol header, an agent header, an agent source and a link edge.
  const fs::path tree =
      fs::temp_directory_path() / fmt::format("qnet-layering-chain-{}", ::getpid());
  fs::create_directories(tree / "chain-manager/src");
  std::ofstream(tree / "chain-manager/src/ok.cc") << "#include \"qnet/qube/agent_config.h\"\n";
  std::ofstream(tree / "chain-manager/src/bad.cc")
      << "#include \"qnet/agent/options.h\"\n#include \"../../guest-agent/src/agent.h\"\n";
  std::ofstream(tree / "chain-manager/CMakeLists.txt")
      << "target_link_libraries(qnet_chain qnet::agent)\n"
         "target_include_directories(qnet_chain PRIVATE ${PROJECT_SOURCE_DIR}/guest-agent/src)\n";
  std::vector<std::string> bad = Violations(tree, "chain-manager");
  std::sort(bad.begin(), bad.end());
  EXPECT_EQ(bad, (std::vector<std::string>{
                     "chain-manager/CMakeLists.txt:1: chain-manager -> guest-agent (agent)",
                     "chain-manager/CMakeLists.txt:2: chain-manager -> guest-agent (sources)",
                     "chain-manager/src/bad.cc:1: chain-manager -> guest-agent (agent)",
                     "chain-manager/src/bad.cc:2: chain-manager -> guest-agent (sources)",
                 }));
  fs::remove_all(tree);
}

}  // namespace
