// Every way a chain file can be wrong, and the exact error a user reads.
#include <gtest/gtest.h>

#include <string>

#include "qnet/config/chain_file.h"
#include "test_registry.h"

namespace qnet::config {
namespace {

// Lines 1-5 of most cases: a chain with its net qube.
constexpr char kHead[] = R"([chain]
name = "x"
[qube.sys-net]
role = "net"
label = "red"
)";

struct BadFile {
  const char* name;
  std::string text;
  const char* error;
};

void PrintTo(const BadFile& f, std::ostream* os) { *os << f.name; }

std::string Head(std::string_view rest) { return std::string(kHead) + std::string(rest); }

const BadFile kBadFiles[] = {
    {"TomlSyntax", "[chain\nname = \"x\"\n",
     "chains/x.toml:1:7: syntax error: Error while parsing table header: expected ']', saw '\\n'"},
    {"DuplicateQubeTable", Head("[qube.sys-net]\nrole = \"net\"\n"),
     "chains/x.toml:6:1: qube.sys-net: duplicate qube 'sys-net' (each [qube.NAME] table is "
     "written once)"},
    {"DuplicateKey", Head("label = \"blue\"\n"),
     "chains/x.toml:6:9: syntax error: key 'label' is set twice in its table"},
    {"DuplicateChainTable", Head("[chain]\n"),
     "chains/x.toml:6:1: chain: table [chain] is defined twice"},
    {"UnknownTopLevelTable", Head("[foo]\n"),
     "chains/x.toml:6:2: foo: unknown key 'foo' (known: chain, lab, qube)"},
    {"MissingChainTable", "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n",
     "chains/x.toml:1:1: chain: missing table [chain]"},
    {"MissingChainName",
     "[chain]\nipv6 = \"off\"\n[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n",
     "chains/x.toml:1:1: chain: missing key 'name'"},
    {"ChainNameWrongType", "[chain]\nname = 5\n",
     "chains/x.toml:2:8: chain.name: expected a string, got integer"},
    {"ChainNameInvalid", "[chain]\nname = \"a b\"\n",
     "chains/x.toml:2:8: chain.name: invalid chain name 'a b': only letters, digits, '_', '.' "
     "and '-' are allowed"},
    {"Ipv6NotOffOrRouted", "[chain]\nname = \"x\"\nipv6 = \"on\"\n",
     "chains/x.toml:3:8: chain.ipv6: unknown ipv6 mode 'on' (valid: off, routed)"},
    {"UnknownChainKey", "[chain]\nname = \"x\"\nnmae = \"y\"\n",
     "chains/x.toml:3:1: chain.nmae: unknown key 'nmae' (known: name, ipv6)"},
    {"LabKey", Head("[lab]\nrouter = \"x\"\n"),
     "chains/x.toml:7:1: lab.router: unknown key 'router' ([lab] has no keys yet)"},
    {"NoQubes", "[chain]\nname = \"x\"\n", "chains/x.toml:1:1: qube: no qubes defined"},
    {"QubeNotATable", "[chain]\nname = \"x\"\n[qube]\nwork = 3\n",
     "chains/x.toml:4:8: qube.work: expected a table, got integer"},
    {"BadQubeName", Head("[qube.9lives]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\n"),
     "chains/x.toml:6:7: qube.9lives: invalid qube name '9lives': must start with a letter"},
    {"UnknownQubeKey", Head("[qube.work]\nrol = \"app\"\n"),
     "chains/x.toml:7:1: qube.work.rol: unknown key 'rol' (known: role, label, id, netvm, "
     "template, dispvm, firewall, wireguard)"},
    {"MissingRole", Head("[qube.work]\nlabel = \"red\"\nnetvm = \"sys-net\"\n"),
     "chains/x.toml:6:1: qube.work: missing key 'role'"},
    {"MissingLabel", Head("[qube.work]\nrole = \"app\"\nnetvm = \"sys-net\"\n"),
     "chains/x.toml:6:1: qube.work: missing key 'label'"},
    {"BadRole", Head("[qube.work]\nrole = \"proxy\"\n"),
     "chains/x.toml:7:8: qube.work.role: unknown role 'proxy' (valid: net, firewall, vpn, tor, "
     "app)"},
    {"BadLabel", Head("[qube.work]\nrole = \"app\"\nlabel = \"pink\"\n"),
     "chains/x.toml:8:9: qube.work.label: unknown label 'pink' (valid: red, orange, yellow, "
     "green, gray, blue, purple, black)"},
    {"NetvmWrongType", Head("[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = 5\n"),
     "chains/x.toml:9:9: qube.work.netvm: expected a string, got integer"},
    {"TemplateRelative", Head("[qube.work]\ntemplate = \"templates/deb\"\n"),
     "chains/x.toml:7:12: qube.work.template: template 'templates/deb': want \"host\", a "
     "template name or an absolute directory path (without '..', ',' or ':')"},
    {"DispvmWrongType", Head("[qube.work]\ndispvm = \"yes\"\n"),
     "chains/x.toml:7:10: qube.work.dispvm: expected a boolean, got string"},
    {"TemplateWrongType", Head("[qube.work]\ntemplate = true\n"),
     "chains/x.toml:7:12: qube.work.template: expected a string, got boolean"},
    {"IdWrongType", Head("[qube.work]\nid = \"5\"\n"),
     "chains/x.toml:7:6: qube.work.id: expected an integer, got string"},
    {"IdFloat", Head("[qube.work]\nid = 1.5\n"),
     "chains/x.toml:7:6: qube.work.id: unsupported value type floating-point (use a string, "
     "integer, boolean, array or table)"},
    {"IdZero", Head("[qube.work]\nid = 0\n"),
     "chains/x.toml:7:6: qube.work.id: id 0 out of range (1..65024)"},
    {"IdBeyondPlan", Head("[qube.work]\nid = 65025\n"),
     "chains/x.toml:7:6: qube.work.id: id 65025 out of range (1..65024)"},
    {"DuplicateId",
     "[chain]\nname = \"x\"\n[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\nid = 7\n"
     "[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\nid = 7\n",
     "chains/x.toml:11:6: qube.work.id: id 7 is already used by qube 'sys-net'"},
    // The brief's own example, line for line.
    {"UnknownNetvm",
     Head("[qube.sys-firewall]\nrole = \"firewall\"\nlabel = \"green\"\nnetvm = \"sys-net\"\n"
          "\n# comment\n\n\n[qube.work]\nrole = \"app\"\nlabel = \"blue\"\n"
          "netvm = \"sys-fw\"\n"),
     "chains/x.toml:17:9: qube.work.netvm: unknown netvm 'sys-fw' (known: sys-firewall, "
     "sys-net)"},
    {"NetvmIsAnAppQube",
     Head("[qube.other]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\n"
          "[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"other\"\n"),
     "chains/x.toml:13:9: qube.work.netvm: netvm 'other' is of role app, which provides no "
     "network"},
    {"NetQubeWithNetvm",
     Head("netvm = \"sys-fw\"\n[qube.sys-fw]\nrole = \"firewall\"\nlabel = \"red\"\n"
          "netvm = \"sys-net\"\n"),
     "chains/x.toml:6:9: qube.sys-net.netvm: a qube of role net has no netvm (it owns the "
     "uplink)"},
    {"AppWithoutNetvm", Head("[qube.work]\nrole = \"app\"\nlabel = \"red\"\n"),
     "chains/x.toml:6:1: qube.work: missing key 'netvm' (a qube of role app needs one)"},
    {"TwoNetQubes", Head("[qube.net2]\nrole = \"net\"\nlabel = \"red\"\n"),
     "chains/x.toml:7:8: qube.net2.role: a chain has only one qube of role net ('sys-net' is "
     "one already)"},
    {"Cycle",
     Head("[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"a\"\n"
          "[qube.a]\nrole = \"firewall\"\nlabel = \"red\"\nnetvm = \"b\"\n"
          "[qube.b]\nrole = \"vpn\"\nlabel = \"red\"\nnetvm = \"a\"\n"),
     "chains/x.toml:13:9: qube.a.netvm: netvm cycle: a -> b -> a"},
    {"SelfNetvm", Head("[qube.a]\nrole = \"firewall\"\nlabel = \"red\"\nnetvm = \"a\"\n"),
     "chains/x.toml:9:9: qube.a.netvm: netvm cycle: a -> a"},
    {"RoleKeyOnWrongRole",
     Head("[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\n"
          "wireguard = \"lab\"\n"),
     "chains/x.toml:10:1: qube.work.wireguard: key 'wireguard' is not allowed for a qube of role "
     "app (allowed: vpn)"},
    {"RoleKeyNeedsNetvm", Head("firewall = [\"accept\"]\n"),
     "chains/x.toml:6:1: qube.sys-net.firewall: key 'firewall' is not allowed for a qube of role "
     "net (allowed: any qube with a netvm)"},
    {"RoleKeyValidatorError",
     Head("[qube.work]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\n"
          "firewall = [\"accept\", \"dorp\"]\n"),
     "chains/x.toml:10:1: qube.work.firewall: rule 2: unknown action 'dorp'"},
};

class BadChainFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadChainFile, IsRefusedWithExactError) {
  const BadFile& c = GetParam();
  auto spec = ParseChainText(c.text, "chains/x.toml", testing::TestRegistry());
  ASSERT_FALSE(spec.has_value()) << c.text;
  EXPECT_EQ(spec.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(spec.error().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(ChainFile, BadChainFile, ::testing::ValuesIn(kBadFiles),
                         [](const ::testing::TestParamInfo<BadFile>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace qnet::config
