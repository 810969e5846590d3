// The sample policy's install batch as the kernel would receive it, read
// back by an independent parser: libnftnl (nftables' own library) parses
// every message of the encoded batch and prints it with its own
// nftnl_*_snprintf. Compared with golden/sample_policy.libnftnl.txt, so the
// golden file of Render() (our own printer) is not the only witness of what
// qnet sends. To refresh after an intended change:
// QNET_UPDATE_GOLDEN=1 firewall_test --gtest_filter='LibnftnlGolden.*'. Like the other golden
// file it holds the clock comparisons in host order (little endian here).
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "qnet/firewall/compiler.h"
#include "qnet/firewall/install_batch.h"
#include "sample_policy.h"

namespace qnet::firewall {
namespace {

constexpr int64_t kNow = 1700000000;

template <typename T, auto Alloc, auto Free, auto Parse, auto Print>
std::string Printed(const nlmsghdr* nlh) {
  std::unique_ptr<T, decltype(Free)> o(Alloc(), Free);
  if (Parse(nlh, o.get()) < 0) return "(libnftnl could not parse this message)\n";
  std::array<char, 16384> buf{};
  Print(buf.data(), buf.size(), o.get(), NFTNL_OUTPUT_DEFAULT, 0);
  std::string out(buf.data());
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out + "\n";
}

int SnprintfRule(char* b, size_t n, const nftnl_rule* r, uint32_t t, uint32_t f) {
  return nftnl_rule_snprintf(b, n, r, t, f);
}
int SnprintfChain(char* b, size_t n, const nftnl_chain* c, uint32_t t, uint32_t f) {
  return nftnl_chain_snprintf(b, n, c, t, f);
}
int SnprintfSet(char* b, size_t n, const nftnl_set* s, uint32_t t, uint32_t f) {
  return nftnl_set_snprintf(b, n, s, t, f);
}
int SnprintfObj(char* b, size_t n, const nftnl_obj* o, uint32_t t, uint32_t f) {
  return nftnl_obj_snprintf(b, n, o, t, f);
}
int ParseElems(const nlmsghdr* nlh, nftnl_set* s) { return nftnl_set_elems_nlmsg_parse(nlh, s); }

// libnftnl's text of every message between BATCH_BEGIN and BATCH_END.
std::string LibnftnlText(const std::vector<uint8_t>& bytes) {
  std::string out;
  int left = static_cast<int>(bytes.size());
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data()); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) continue;
    switch (nlh->nlmsg_type & 0xff) {
      case NFT_MSG_NEWRULE:
        out += "rule " + Printed<nftnl_rule, nftnl_rule_alloc, nftnl_rule_free,
                                 nftnl_rule_nlmsg_parse, SnprintfRule>(nlh);
        break;
      case NFT_MSG_NEWCHAIN:
        out += "chain " + Printed<nftnl_chain, nftnl_chain_alloc, nftnl_chain_free,
                                  nftnl_chain_nlmsg_parse, SnprintfChain>(nlh);
        break;
      case NFT_MSG_NEWSET:
        out +=
            "set " +
            Printed<nftnl_set, nftnl_set_alloc, nftnl_set_free, nftnl_set_nlmsg_parse, SnprintfSet>(
                nlh);
        break;
      case NFT_MSG_NEWSETELEM:
        out += "elements " +
               Printed<nftnl_set, nftnl_set_alloc, nftnl_set_free, ParseElems, SnprintfSet>(nlh);
        break;
      case NFT_MSG_NEWOBJ:
        out +=
            "object " +
            Printed<nftnl_obj, nftnl_obj_alloc, nftnl_obj_free, nftnl_obj_nlmsg_parse, SnprintfObj>(
                nlh);
        break;
      case NFT_MSG_DELSETELEM:  // no elements: the set is flushed
        out += "delete elements " +
               Printed<nftnl_set, nftnl_set_alloc, nftnl_set_free, ParseElems, SnprintfSet>(nlh);
        break;
      case NFT_MSG_DELRULE:  // no handle: the chain is flushed
        out += "delete rules " + Printed<nftnl_rule, nftnl_rule_alloc, nftnl_rule_free,
                                         nftnl_rule_nlmsg_parse, SnprintfRule>(nlh);
        break;
      default:
        out += "message type " + std::to_string(nlh->nlmsg_type & 0xff) + "\n";
    }
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LibnftnlGolden, SamplePolicyBatchParsedByLibnftnlMatchesGoldenFile) {
  auto fw = Compile(testing::SampleClients(kNow), testing::SampleNames(), kNow);
  ASSERT_TRUE(fw.has_value()) << fw.error().message();
  nft::Batch batch = FirewallInstallBatch(std::move(*fw), {});
  ASSERT_TRUE(batch.status().ok()) << batch.status().error().message();
  const std::string text = LibnftnlText(batch.Encode());
  // The parse saw the rules with their hostname lookups and time tests.
  EXPECT_EQ(text.find("could not parse"), std::string::npos) << text;
  EXPECT_NE(text.find("[ lookup reg 1 set fw-12-a0-4 ]"), std::string::npos) << text;
  EXPECT_NE(text.find("[ meta load time => reg 1 ]"), std::string::npos) << text;

  const std::string path = std::string(QNET_FIREWALL_GOLDEN_DIR) + "/sample_policy.libnftnl.txt";
  if (std::getenv("QNET_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << text;
  const std::string golden = ReadFile(path);
  std::istringstream got(text), want(golden);
  std::string got_line, want_line;
  for (int line = 1;; ++line) {
    const bool more_got = static_cast<bool>(std::getline(got, got_line));
    const bool more_want = static_cast<bool>(std::getline(want, want_line));
    if (!more_got && !more_want) break;
    if (got_line != want_line || more_got != more_want) {
      ADD_FAILURE() << path << ":" << line << " differs\n  got:  " << got_line
                    << "\n  want: " << want_line;
      break;
    }
  }
}

}  // namespace
}  // namespace qnet::firewall
