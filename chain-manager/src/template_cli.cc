#include "template_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "client.h"
#include "dispvm_cli.h"
#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/qube/qube.h"

namespace qnet::chain {
namespace {

namespace fs = std::filesystem;

int Refuse(std::string_view op, const std::string& message) {
  fmt::print(stderr, "qnet: template {}: {}\n", op, message);
  return 1;
}

// Letters, digits and the few signs Debian allows in suite and package names.
bool DebianWord(std::string_view w) {
  return !w.empty() && w.front() != '-' &&
         w.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.+-~") == std::string_view::npos;
}

std::string Dir(const TemplateArgs& a) { return a.root + "/" + a.name; }

// Fills `tmp` from the chosen source.
Status Populate(const TemplateArgs& a, const std::string& tmp) {
  std::vector<std::string> argv;
  if (!a.from_dir.empty()) {
    if (!fs::is_directory(a.from_dir))
      return Fail(Errc::kNotFound, fmt::format("--from-dir {}: not a directory", a.from_dir));
    argv = {"cp", "-a", "--reflink=auto", a.from_dir + "/.", tmp};
  } else if (!a.from_tarball.empty()) {
    if (!fs::is_regular_file(a.from_tarball))
      return Fail(Errc::kNotFound, fmt::format("--from-tarball {}: no such file", a.from_tarball));
    argv = {"tar", "-xpf", a.from_tarball, "--numeric-owner", "-C", tmp};
  } else {
    QNET_ASSIGN_OR_RETURN(argv, MmdebstrapArgv(a, tmp));
  }
  auto out = RunCapture(argv);
  if (!out) return Fail(out.error().Wrap(argv[0]));
  return OkStatus();
}

int Create(const TemplateArgs& a) {
  if (!a.from_dir.empty() + !a.from_tarball.empty() > 1)
    return Refuse("create", "give at most one of --from-dir and --from-tarball");
  const std::string dir = Dir(a);
  if (fs::exists(dir)) return Refuse("create", fmt::format("{} exists ({})", a.name, dir));
  if (a.from_dir.empty() && a.from_tarball.empty()) {
    if (auto argv = MmdebstrapArgv(a, dir); !argv) return Refuse("create", argv.error().message());
  }
  if (!a.from_dir.empty() && !fs::is_directory(a.from_dir))
    return Refuse("create", fmt::format("--from-dir {}: not a directory", a.from_dir));
  if (!a.from_tarball.empty() && !fs::is_regular_file(a.from_tarball))
    return Refuse("create", fmt::format("--from-tarball {}: no such file", a.from_tarball));
  if (Status s = MakeDirs(a.root, 0700); !s) return Refuse("create", s.error().message());
  // Built beside its place and renamed: a half-built tree never has the name.
  const std::string tmp = fmt::format("{}/.{}.new-{}", a.root, a.name, ::getpid());
  if (Status s = MakeDirs(tmp, 0755); !s) return Refuse("create", s.error().message());
  if (Status s = Populate(a, tmp); !s) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return Refuse("create", s.error().message());
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return Refuse("create", fmt::format("rename to {}: {}", dir, std::strerror(errno)));
  }
  fmt::print("template {} created in {}\n", a.name, dir);
  return 0;
}

int List(const TemplateArgs& a) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(a.root, ec)) {
    const std::string n = e.path().filename().string();
    if (n.front() != '.' && e.is_directory() && qube::ValidateTemplateName(n)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const auto users = TemplateUsers(a.root + "/" + n);
    fmt::print("{}{}\n", n,
               users.empty() ? "" : fmt::format("  (in use by {})", fmt::join(users, ", ")));
  }
  return 0;
}

int Remove(const TemplateArgs& a) {
  const std::string dir = Dir(a);
  if (!fs::is_directory(dir)) return Refuse("remove", fmt::format("no template {}", a.name));
  if (auto users = TemplateUsers(dir); !users.empty())
    return Refuse("remove", fmt::format("{} is in use by a running qube ({})", a.name,
                                        fmt::join(users, ", ")));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Refuse("remove", fmt::format("{}: {}", dir, ec.message()));
  fmt::print("template {} removed\n", a.name);
  return 0;
}

int Run(const Instance& inst, const TemplateArgs& a) {
  if (!fs::is_directory(Dir(a))) return Refuse("run", fmt::format("no template {}", a.name));
  DispvmArgs d;
  d.netvm = a.netvm.value_or("");
  d.label = "black";  // as Qubes' templates
  d.template_name = a.name;
  d.command = a.command;
  nlohmann::json j = DispvmRequestJson(d);
  j["root"] = true;
  j["template_writable"] = true;
  return RunDispvmRequest(inst, j);
}

}  // namespace

Result<std::vector<std::string>> MmdebstrapArgv(const TemplateArgs& a, const std::string& dest) {
  if (!DebianWord(a.suite))
    return Fail(Errc::kInvalidArgument, fmt::format("--suite: '{}' is not a suite name", a.suite));
  std::vector<std::string> argv = {"mmdebstrap", "--variant=minbase", "--mode=root"};
  if (!a.include.empty()) {
    size_t start = 0;
    while (start <= a.include.size()) {
      size_t comma = std::min(a.include.find(',', start), a.include.size());
      std::string_view pkg(a.include.data() + start, comma - start);
      if (!DebianWord(pkg))
        return Fail(Errc::kInvalidArgument,
                    fmt::format("--include: '{}' is not a package name", pkg));
      start = comma + 1;
    }
    argv.push_back("--include=" + a.include);
  }
  argv.push_back(a.suite);
  argv.push_back(dest);
  if (!a.mirror.empty()) {
    const bool scheme = a.mirror.starts_with("http://") || a.mirror.starts_with("https://") ||
                        a.mirror.starts_with("file:///");
    if (!scheme || a.mirror.find_first_of(" \t\n") != std::string::npos)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("--mirror: '{}' is not an http(s):// or file:/// URL", a.mirror));
    argv.push_back(a.mirror);
  }
  return argv;
}

CLI::App* AddTemplateCommand(CLI::App& app, TemplateArgs& a) {
  auto* t = app.add_subcommand("template", "templates: root trees qubes start from");
  t->require_subcommand(1);
  auto* create = t->add_subcommand("create", "build a template (mmdebstrap, or import a tree)");
  create->add_option("NAME", a.name)->required();
  create->add_option("--suite", a.suite, "Debian suite (default bookworm)");
  create->add_option("--mirror", a.mirror, "mirror URL (http(s):// or file:///)");
  create->add_option("--include", a.include, "extra packages, comma-separated");
  create->add_option("--from-dir", a.from_dir, "import a copy of this root tree instead");
  create->add_option("--from-tarball", a.from_tarball, "import this tarball of a root tree");
  auto* run = t->add_subcommand("run", "run a command as root in the template (changes persist)");
  run->add_option("NAME", a.name)->required();
  run->add_option_function<std::string>(
      "--netvm", [&a](const std::string& v) { a.netvm = v; }, "its netvm (default: none)");
  run->add_option("CMD", a.command, "the command and its arguments (after --)")->required();
  run->prefix_command(false);
  auto* ls = t->add_subcommand("ls", "list templates");
  auto* remove = t->add_subcommand("remove", "delete a template no qube uses");
  remove->add_option("NAME", a.name)->required();
  for (CLI::App* sub : {create, run, ls, remove})
    sub->callback([&a, sub] { a.op = sub->get_name(); });
  return t;
}

int RunTemplate(const Instance& inst, const TemplateArgs& a) {
  struct Row {
    const char* op;
    bool named;
    int (*run)(const Instance&, const TemplateArgs&);
  };
  static constexpr Row kOps[] = {
      {"create", true, [](const Instance&, const TemplateArgs& a) { return Create(a); }},
      {"run", true, Run},
      {"ls", false, [](const Instance&, const TemplateArgs& a) { return List(a); }},
      {"remove", true, [](const Instance&, const TemplateArgs& a) { return Remove(a); }},
  };
  for (const Row& row : kOps) {
    if (a.op != row.op) continue;
    if (row.named)
      if (Status s = qube::ValidateTemplateName(a.name); !s)
        return Refuse(a.op, s.error().message());
    return row.run(inst, a);
  }
  return Refuse(a.op, "unknown operation");
}

}  // namespace qnet::chain
