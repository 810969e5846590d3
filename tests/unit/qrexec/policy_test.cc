// The qrexec policy engine (policy.h) against a table of requests: tokens,
// order, includes, ask, redirection with target=, invalid files.
#include "qnet/qrexec/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace qnet::qrexec {
namespace {

using Files = std::map<std::string, std::string>;

// Policy files in memory: path -> text. ListDir lists the files directly
// under a directory.
class MapSource : public PolicySource {
 public:
  explicit MapSource(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  Result<std::string> ReadFile(const std::string& path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return Error(Errc::kNotFound, path + ": No such file or directory");
    return it->second;
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    std::vector<std::string> names;
    std::string prefix = path + "/";
    for (const auto& [file, text] : files_) {
      if (file.starts_with(prefix) && file.find('/', prefix.size()) == std::string::npos) {
        names.push_back(file.substr(prefix.size()));
      }
    }
    if (names.empty()) return Error(Errc::kNotFound, path + ": No such file or directory");
    // Reverse order: LoadPolicy must sort, not trust the directory's order.
    std::reverse(names.begin(), names.end());
    return names;
  }

 private:
  std::map<std::string, std::string> files_;
};

QubeDirectory Qubes() {
  return QubeDirectory({
      {"work", "AppVM", {"trusted"}, "", "fedora-dvm"},
      {"personal", "AppVM", {}, "", "fedora-dvm"},
      {"vault", "AppVM", {"secret"}, "", ""},
      {"untrusted", "AppVM", {"anon-vm"}, "", "fedora-dvm"},
      {"sys-net", "AppVM", {}, "", ""},
      {"fedora-40", "TemplateVM", {}, "", ""},
      {"fedora-dvm", "AppVM", {"dvm-ok"}, "", ""},
      {"whonix-dvm", "AppVM", {}, "", ""},
      {"disp123", "DispVM", {}, "fedora-dvm", "fedora-dvm"},
      {"disp456", "DispVM", {}, "whonix-dvm", ""},
  });
}

// The main policy of the table: files as a user would lay them out.
std::map<std::string, std::string> MainFiles() {
  return {
      {"/p/30-user.policy",
       "# user overrides come first\n"
       "qubes.Filecopy * work vault allow\n"
       "qubes.Filecopy * @anyvm vault deny notify=no\n"
       "qubes.Gpg      * work @default allow target=vault\n"
       "qubes.Gpg      * @anyvm @anyvm deny\n"
       "qubes.StartApp +firefox work @dispvm allow\n"
       "qubes.StartApp +firefox personal @dispvm:whonix-dvm allow\n"
       "qubes.VMShell  * @tag:trusted @type:TemplateVM allow user=root autostart=no\n"
       "qubes.Secret   +a work vault allow\n"
       "qubes.Secret   +  work vault ask default_target=vault\n"
       "qubes.Legacy   * $anyvm $anyvm allow\n"  // "$" spelling of Qubes 4.0
       "*              * untrusted @anyvm deny\n"
       "!include include/clipboard\n"
       "!include-service qubes.UpdatesProxy * include/updates\n"},
      {"/p/include/clipboard",
       "qubes.ClipboardPaste * @anyvm @anyvm ask\n"
       "qubes.ClipboardPaste * dom0 @anyvm allow\n"},
      {"/p/include/updates",
       "# Qubes 4.0 format: SOURCE TARGET ACTION[,PARAMS]\n"
       "@type:TemplateVM @default allow,target=sys-net\n"
       "@anyvm @anyvm deny\n"},
      {"/p/50-config-dispvm.policy",
       "qubes.OpenInVM * @dispvm:fedora-dvm @anyvm deny\n"
       "qubes.OpenInVM * @dispvm @anyvm ask\n"
       "qubes.OpenInVM * @anyvm @dispvm:@tag:dvm-ok allow\n"
       "qubes.OpenInVM * @anyvm @dispvm allow target=@dispvm:whonix-dvm\n"},
      {"/p/90-default.policy",
       "qubes.GetDate * @tag:anon-vm @anyvm deny\n"
       "qubes.GetDate * @anyvm @anyvm allow target=dom0\n"
       "qubes.Filecopy * @anyvm @anyvm ask\n"
       "qubes.FeaturesRequest * @anyvm dom0 allow\n"
       "qubes.Ping * * * allow\n"},
      {"/p/README", "not a policy file: ignored\n"},
      {"/p/.hidden.policy", "this is not parsed\n"},
  };
}

struct Case {
  const char* name;
  PolicyRequest request;
  PolicyAction action;
  std::string target;  // expected decision target ("" for deny)
  std::string where;   // expected rule "FILE:LINE", or "" when none
  std::string reason;  // expected reason (checked when not empty)
};

std::vector<Case> Cases() {
  using A = PolicyAction;
  return {
      // order: first match wins across files in C-locale order
      {"user file before default",
       {"qubes.Filecopy", "", "work", "vault"},
       A::kAllow,
       "vault",
       "/p/30-user.policy:2",
       "allowed by /p/30-user.policy:2"},
      {"second rule of user file",
       {"qubes.Filecopy", "", "personal", "vault"},
       A::kDeny,
       "",
       "/p/30-user.policy:3",
       ""},
      {"falls through to default ask",
       {"qubes.Filecopy", "", "work", "personal"},
       A::kAsk,
       "personal",
       "/p/90-default.policy:3",
       "ask by /p/90-default.policy:3"},
      {"filecopy with any argument",
       {"qubes.Filecopy", "x", "work", "personal"},
       A::kAsk,
       "personal",
       "/p/90-default.policy:3",
       ""},
      // redirection with target=
      {"@default redirected",
       {"qubes.Gpg", "", "work", "@default"},
       A::kAllow,
       "vault",
       "/p/30-user.policy:4",
       ""},
      {"empty target is @default",
       {"qubes.Gpg", "", "work", ""},
       A::kAllow,
       "vault",
       "/p/30-user.policy:4",
       ""},
      {"@default rule needs @default",
       {"qubes.Gpg", "", "work", "personal"},
       A::kDeny,
       "",
       "/p/30-user.policy:5",
       ""},
      {"getdate redirected to dom0",
       {"qubes.GetDate", "", "work", "personal"},
       A::kAllow,
       "dom0",
       "/p/90-default.policy:2",
       ""},
      {"@tag source denied",
       {"qubes.GetDate", "", "untrusted", "personal"},
       A::kDeny,
       "",
       "/p/30-user.policy:12",
       ""},
      // @dispvm
      {"@dispvm resolves to default",
       {"qubes.StartApp", "firefox", "work", "@dispvm"},
       A::kAllow,
       "@dispvm:fedora-dvm",
       "/p/30-user.policy:6",
       ""},
      {"@dispvm:NAME rule ignores another default",
       {"qubes.StartApp", "firefox", "personal", "@dispvm"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"@dispvm:NAME rule matches explicit",
       {"qubes.StartApp", "firefox", "personal", "@dispvm:whonix-dvm"},
       A::kAllow,
       "@dispvm:whonix-dvm",
       "/p/30-user.policy:7",
       ""},
      {"argument must match",
       {"qubes.StartApp", "chromium", "work", "@dispvm"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"no argument does not match +firefox",
       {"qubes.StartApp", "", "work", "@dispvm"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"source @dispvm:NAME",
       {"qubes.OpenInVM", "", "disp123", "work"},
       A::kDeny,
       "",
       "/p/50-config-dispvm.policy:1",
       ""},
      {"source @dispvm any disposable",
       {"qubes.OpenInVM", "", "disp456", "work"},
       A::kAsk,
       "work",
       "/p/50-config-dispvm.policy:2",
       ""},
      {"target @dispvm:@tag:T",
       {"qubes.OpenInVM", "", "work", "@dispvm"},
       A::kAllow,
       "@dispvm:fedora-dvm",
       "/p/50-config-dispvm.policy:3",
       ""},
      {"target @dispvm redirected",
       {"qubes.OpenInVM", "", "vault", "@dispvm"},
       A::kAllow,
       "@dispvm:whonix-dvm",
       "/p/50-config-dispvm.policy:4",
       ""},
      {"a named qube matches no @dispvm rule",
       {"qubes.OpenInVM", "", "vault", "work"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      // @type, user=, autostart=
      {"@tag source and @type target",
       {"qubes.VMShell", "", "work", "fedora-40"},
       A::kAllow,
       "fedora-40",
       "/p/30-user.policy:8",
       ""},
      {"@type target refuses AppVM",
       {"qubes.VMShell", "", "work", "personal"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"@tag source refuses untagged",
       {"qubes.VMShell", "", "personal", "fedora-40"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      // "+" is the empty argument, "+a" a specific one
      {"+a argument",
       {"qubes.Secret", "a", "work", "vault"},
       A::kAllow,
       "vault",
       "/p/30-user.policy:9",
       ""},
      {"+ empty argument asks",
       {"qubes.Secret", "", "work", "vault"},
       A::kAsk,
       "vault",
       "/p/30-user.policy:10",
       ""},
      {"other argument matches nothing",
       {"qubes.Secret", "b", "work", "vault"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      // "$" spelling, "*" service
      {"$anyvm spelling",
       {"qubes.Legacy", "", "work", "personal"},
       A::kAllow,
       "personal",
       "/p/30-user.policy:11",
       ""},
      {"* service denies untrusted",
       {"qubes.Anything", "x", "untrusted", "work"},
       A::kDeny,
       "",
       "/p/30-user.policy:12",
       ""},
      {"@anyvm target does not match dom0",
       {"qubes.Anything", "", "untrusted", "dom0"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"@anyvm target matches @default",
       {"qubes.Legacy", "", "work", ""},
       A::kDeny,
       "",
       "/p/30-user.policy:11",
       "/p/30-user.policy:11: allow without target= cannot serve a call "
       "to @default"},
      // includes
      {"!include file",
       {"qubes.ClipboardPaste", "", "work", "personal"},
       A::kAsk,
       "personal",
       "/p/include/clipboard:1",
       ""},
      {"@anyvm source is not dom0",
       {"qubes.ClipboardPaste", "", "dom0", "work"},
       A::kAllow,
       "work",
       "/p/include/clipboard:2",
       ""},
      {"!include-service with 4.0 commas",
       {"qubes.UpdatesProxy", "", "fedora-40", "@default"},
       A::kAllow,
       "sys-net",
       "/p/include/updates:2",
       ""},
      {"!include-service second line",
       {"qubes.UpdatesProxy", "", "work", "personal"},
       A::kDeny,
       "",
       "/p/include/updates:3",
       ""},
      {"!include-service only for its service",
       {"qubes.Other", "", "fedora-40", "@default"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      // dom0 / @adminvm
      {"dom0 target",
       {"qubes.FeaturesRequest", "", "work", "dom0"},
       A::kAllow,
       "dom0",
       "/p/90-default.policy:4",
       ""},
      {"@adminvm target spelling",
       {"qubes.FeaturesRequest", "", "work", "@adminvm"},
       A::kAllow,
       "dom0",
       "/p/90-default.policy:4",
       ""},
      {"* matches dom0 source and target",
       {"qubes.Ping", "", "dom0", "dom0"},
       A::kAllow,
       "dom0",
       "/p/90-default.policy:5",
       ""},
      // no match / bad requests
      {"no rule denies",
       {"qubes.Unknown", "", "work", "personal"},
       A::kDeny,
       "",
       "",
       "no rule matched"},
      {"unknown target qube",
       {"qubes.Ping", "", "work", "nosuch"},
       A::kDeny,
       "",
       "",
       "no such qube 'nosuch'"},
      {"unknown source qube",
       {"qubes.Ping", "", "nosuch", "work"},
       A::kDeny,
       "",
       "",
       "no such source qube 'nosuch'"},
      {"invalid service name", {"qubes/evil", "", "work", "personal"}, A::kDeny, "", "", ""},
      {"keyword target that is not a qube",
       {"qubes.Ping", "", "work", "@anyvm"},
       A::kDeny,
       "",
       "",
       "target '@anyvm' is not a qube"},
  };
}

TEST(QrexecPolicy, TableOfRequests) {
  MapSource source(MainFiles());
  Result<Policy> policy = LoadPolicy(source, "/p");
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  QubeDirectory qubes = Qubes();
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    PolicyDecision d = Decide(policy, c.request, qubes);
    EXPECT_EQ(d.action, c.action) << FormatDecision(d);
    EXPECT_EQ(d.target, c.target) << FormatDecision(d);
    EXPECT_EQ(d.rule ? FormatLocation(*d.rule) : "", c.where) << FormatDecision(d);
    if (!c.reason.empty()) {
      EXPECT_EQ(d.reason, c.reason);
    }
  }
  EXPECT_GE(Cases().size(), 40u);
}

TEST(QrexecPolicy, ParamsOfTheMatchingRuleReachTheDecision) {
  MapSource source(MainFiles());
  Result<Policy> policy = LoadPolicy(source, "/p");
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  PolicyDecision shell = policy->Evaluate({"qubes.VMShell", "", "work", "fedora-40"}, Qubes());
  EXPECT_EQ(shell.user, "root");
  EXPECT_FALSE(shell.autostart);
  EXPECT_EQ(FormatDecision(shell),
            "allow target=fedora-40 user=root autostart=no notify=no (allowed by "
            "/p/30-user.policy:8)");
  PolicyDecision quiet = policy->Evaluate({"qubes.Filecopy", "", "personal", "vault"}, Qubes());
  EXPECT_FALSE(quiet.notify);  // deny notify=no
  PolicyDecision loud = policy->Evaluate({"qubes.Unknown", "", "work", "vault"}, Qubes());
  EXPECT_TRUE(loud.notify);  // a deny notifies by default
  PolicyDecision ask = policy->Evaluate({"qubes.Secret", "", "work", "vault"}, Qubes());
  EXPECT_EQ(ask.default_target, "vault");
}

TEST(QrexecPolicy, EmptyOrMissingDirectoryDeniesEverything) {
  MapSource none(Files{});
  Result<Policy> policy = LoadPolicy(none, "/p");
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  EXPECT_TRUE(policy->rules().empty());
  PolicyDecision d = Decide(policy, {"qubes.Ping", "", "work", "personal"}, Qubes());
  EXPECT_EQ(d.action, PolicyAction::kDeny);
  EXPECT_EQ(d.reason, "no rule matched");
}

struct BadCase {
  const char* name;
  std::string text;
  std::string error;
};

// An invalid file names FILE:LINE and rejects every call, also the ones a
// valid rule before the mistake would allow.
TEST(QrexecPolicy, InvalidFilesAreRejectedNamingFileAndLine) {
  const BadCase cases[] = {
      {"too few fields", "qubes.Ping * work allow\n",
       "/p/10-x.policy:1: 4 fields, a rule has SERVICE ARGUMENT SOURCE TARGET ACTION"},
      {"bad action", "qubes.Ping * work personal permit\n",
       "/p/10-x.policy:1: action 'permit': expected allow, deny or ask"},
      {"unknown keyword", "\n# c\nqubes.Ping * @everyone personal allow\n",
       "/p/10-x.policy:3: source '@everyone': unknown keyword"},
      {"@default source", "qubes.Ping * @default personal allow\n",
       "/p/10-x.policy:1: source '@default': @default is only a target"},
      {"argument without +", "qubes.Ping arg work personal allow\n",
       "/p/10-x.policy:1: argument 'arg': expected '*', '+' or '+ARG'"},
      {"* service with argument", "* +x work personal allow\n",
       "/p/10-x.policy:1: a '*' service takes only a '*' argument"},
      {"unknown param", "qubes.Ping * work personal allow color=red\n",
       "/p/10-x.policy:1: unknown parameter 'color'"},
      {"param not for deny", "qubes.Ping * work personal deny target=vault\n",
       "/p/10-x.policy:1: target= is not valid for deny"},
      {"default_target only for ask", "qubes.Ping * work personal allow default_target=vault\n",
       "/p/10-x.policy:1: default_target= is not valid for allow"},
      {"bad bool", "qubes.Ping * work personal allow autostart=maybe\n",
       "/p/10-x.policy:1: autostart=maybe: expected yes or no"},
      {"redirect to a group", "qubes.Ping * work @default allow target=@anyvm\n",
       "/p/10-x.policy:1: target= '@anyvm': not a single qube"},
      {"bad qube name", "qubes.Ping * work per/sonal allow\n",
       "/p/10-x.policy:1: target 'per/sonal': invalid qube name"},
      {"unknown directive", "!includes foo\n", "/p/10-x.policy:1: unknown directive '!includes'"},
      {"missing include", "qubes.Ping * work personal allow\n!include nope\n",
       "/p/10-x.policy:2: !include: /p/nope: No such file or directory"},
      {"self include loops", "!include 10-x.policy\n",
       "/p/10-x.policy:1: !include: includes nested deeper than 16"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    MapSource source({{"/p/10-x.policy", c.text}, {"/p/20-ok.policy", "qubes.Ping * * * allow\n"}});
    Result<Policy> policy = LoadPolicy(source, "/p");
    ASSERT_FALSE(policy.has_value());
    EXPECT_EQ(policy.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(policy.error().message(), c.error);
    PolicyDecision d = Decide(policy, {"qubes.Ping", "", "work", "personal"}, Qubes());
    EXPECT_EQ(d.action, PolicyAction::kDeny);
    EXPECT_EQ(d.reason, "policy invalid: " + c.error);
  }
  // Positive control: the valid file alone allows the call.
  MapSource ok(Files{{"/p/20-ok.policy", "qubes.Ping * * * allow\n"}});
  EXPECT_EQ(Decide(LoadPolicy(ok, "/p"), {"qubes.Ping", "", "work", "personal"}, Qubes()).action,
            PolicyAction::kAllow);
}

TEST(QrexecPolicy, AnErrorInAnIncludedFileNamesThatFile) {
  MapSource source({{"/p/10-x.policy", "\n!include-dir inc\n"},
                    {"/p/inc/a.policy", "qubes.Ping * work personal allow\n"},
                    {"/p/inc/b.policy", "\n\nqubes.Ping * work personal nope\n"}});
  Result<Policy> policy = LoadPolicy(source, "/p");
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().message(),
            "/p/inc/b.policy:3: action 'nope': expected allow, deny or ask");
  MapSource service({{"/p/10-x.policy", "!include-service qubes.Ping * old\n"},
                     {"/p/old", "work personal allow\nwork\n"}});
  Result<Policy> old = LoadPolicy(service, "/p");
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().message(), "/p/old:2: 1 fields, a rule here has SOURCE TARGET ACTION");
}

TEST(QrexecPolicy, FilesAreReadInCLocaleOrder) {
  // Uppercase sorts before lowercase and '1' before '9' in the C locale.
  MapSource source({{"/p/a.policy", "qubes.Ping * * * deny\n"},
                    {"/p/B.policy", "qubes.Ping * * * allow\n"},
                    {"/p/9.policy", "qubes.Ping * work * ask\n"}});
  Result<Policy> policy = LoadPolicy(source, "/p");
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  ASSERT_EQ(policy->rules().size(), 3u);
  EXPECT_EQ(policy->rules()[0].location.file, "/p/9.policy");
  EXPECT_EQ(policy->rules()[1].location.file, "/p/B.policy");
  EXPECT_EQ(policy->rules()[2].location.file, "/p/a.policy");
  EXPECT_EQ(policy->Evaluate({"qubes.Ping", "", "work", "vault"}, Qubes()).action,
            PolicyAction::kAsk);
  EXPECT_EQ(policy->Evaluate({"qubes.Ping", "", "personal", "vault"}, Qubes()).action,
            PolicyAction::kAllow);
}

// Files written like Qubes' shipped policy (tests/unit/qrexec/policy_data,
// see its README) parse unchanged from the real filesystem.
TEST(QrexecPolicy, QubesShippedPolicyLayoutParsesUnchanged) {
  std::string dir = std::string(QNET_POLICY_DATA_DIR) + "/policy.d";
  FilesystemPolicySource fs;
  Result<Policy> policy = LoadPolicy(fs, dir);
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  EXPECT_GT(policy->rules().size(), 20u);
  QubeDirectory qubes = Qubes();
  EXPECT_EQ(policy->Evaluate({"qubes.Filecopy", "", "work", "personal"}, qubes).action,
            PolicyAction::kAsk);
  EXPECT_EQ(policy->Evaluate({"qubes.GetDate", "", "work", "@default"}, qubes).target, "dom0");
  EXPECT_EQ(policy->Evaluate({"qubes.ConnectTCP", "22", "work", "personal"}, qubes).action,
            PolicyAction::kDeny);
  EXPECT_EQ(policy->Evaluate({"policy.List", "", "work", "dom0"}, qubes).action,
            PolicyAction::kDeny);
}

}  // namespace
}  // namespace qnet::qrexec
