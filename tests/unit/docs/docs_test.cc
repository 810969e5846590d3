// The repository stands alone: every relative link in its Markdown files
// resolves inside it, nothing points outside it (a developer's machine, the
// project's planning files), and no code or document cites a tracker issue
// by number (name the feature instead).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kTree = QNET_SOURCE_DIR;

// Build trees, VCS data and anything generated are not the repository's text.
bool Skipped(const fs::path& rel) {
  const std::string first = rel.begin()->string();
  return first.rfind("build", 0) == 0 || first == ".git" || first == "Testing";
}

std::vector<fs::path> FilesWith(const std::vector<std::string>& exts) {
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(kTree); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = fs::relative(it->path(), kTree);
    if (it->is_directory() && Skipped(rel)) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string ext = it->path().extension().string();
    const std::string name = it->path().filename().string();
    for (const std::string& e : exts)
      if (ext == e || name == e) out.push_back(it->path());
  }
  return out;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Markdown text without fenced code blocks (their brackets are code).
std::string WithoutCodeBlocks(const std::string& text) {
  std::string out;
  bool in_fence = false;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      in_fence = !in_fence;
      out += '\n';
      continue;
    }
    out += in_fence ? std::string() : line;
    out += '\n';
  }
  return out;
}

TEST(Docs, EveryRelativeMarkdownLinkResolves) {
  const std::regex link_re(R"re(\]\(([^)\s]+)\))re");
  std::vector<std::string> broken;
  for (const fs::path& md : FilesWith({".md"})) {
    const std::string text = WithoutCodeBlocks(Read(md));
    for (std::sregex_iterator it(text.begin(), text.end(), link_re), end; it != end; ++it) {
      std::string target = (*it)[1];
      if (target.find("://") != std::string::npos || target.rfind("mailto:", 0) == 0 ||
          target.front() == '#')
        continue;
      target = target.substr(0, target.find('#'));
      const fs::path resolved = (md.parent_path() / target).lexically_normal();
      const std::string rel = fs::relative(resolved, kTree).string();
      if (rel.rfind("..", 0) == 0 || !fs::exists(resolved))
        broken.push_back(fmt::format("{}: ({}) does not resolve inside the repository",
                                     fs::relative(md, kTree).string(), (*it)[1].str()));
    }
  }
  EXPECT_TRUE(broken.empty()) << fmt::format("{}", fmt::join(broken, "\n"));
}

TEST(Docs, NothingPointsOutsideTheRepository) {
  // The planning documents the project started from live outside the
  // repository; a reader who clones it has docs/ instead.
  // Written with character classes so that this line does not match itself.
  const std::regex outside_re(
      R"re(\.\./s[h]ared/|D[E]SIGN\.md|S[T]YLE\.md|/w[o]rk/|/h[o]me/[a-z]+/)re");
  std::vector<std::string> found;
  for (const fs::path& f : FilesWith({".md", ".h", ".cc", ".sh", ".txt", ".toml", ".py"})) {
    std::istringstream in(Read(f));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (std::regex_search(line, outside_re))
        found.push_back(fmt::format("{}:{}: {}", fs::relative(f, kTree).string(), n, line));
    }
  }
  EXPECT_TRUE(found.empty()) << fmt::format("{}", fmt::join(found, "\n"));
}

TEST(Docs, NoTrackerIssueNumbers) {
  // "issue 3" means nothing to a reader of the code; upstream references
  // ("Qubes issue 7771", "its issue 5866") name their project and stay.
  const std::regex issue_re(R"re((^|[^A-Za-z'])([Ii]ssues? #?\d+))re");
  const std::regex upstream_re(
      R"re((Qubes|Qubes'|its|tor|Tor|WireGuard|upstream|GitHub)\s+[Ii]ssues? #?\d+)re");
  std::vector<std::string> found;
  for (const fs::path& f : FilesWith({".md", ".h", ".cc", ".sh", ".txt", ".toml"})) {
    if (f.filename() == "docs_test.cc") continue;
    std::istringstream in(Read(f));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (std::regex_search(line, issue_re) && !std::regex_search(line, upstream_re))
        found.push_back(fmt::format("{}:{}: {}", fs::relative(f, kTree).string(), n, line));
    }
  }
  EXPECT_TRUE(found.empty()) << fmt::format("{}", fmt::join(found, "\n"));
}

}  // namespace
