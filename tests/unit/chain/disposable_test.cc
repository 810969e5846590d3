#include "qnet/chain/disposable.h"

#include <gtest/gtest.h>

#include <set>

#include "graph.h"
#include "qnet/chain/template_store.h"
#include "qnet/config/chain_file.h"
#include "registry.h"

namespace qnet::chain {
namespace {

Plan PlanOfText(const std::string& text) {
  auto spec = config::ParseChainText(text, "x.toml", BuildKeyRegistry());
  EXPECT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  EXPECT_TRUE(plan) << plan.error().message();
  return *plan;
}

Plan BasicPlan() {
  auto spec = config::ParseChainFile(std::string(QNET_SOURCE_DIR) + "/configs/basic.toml",
                                     BuildKeyRegistry());
  EXPECT_TRUE(spec) << spec.error().message();
  return *BuildPlan(*spec, 1700000000);
}

DisposableSpec At(const std::string& netvm) {
  DisposableSpec s;
  s.netvm = netvm;
  return s;
}

TEST(Disposable, GetsAQubesDisposableNameAddressAndAFreeQubeId) {
  Plan p = BasicPlan();
  auto ids = PickDisposableIds(p, 4520);
  ASSERT_TRUE(ids) << ids.error().message();
  EXPECT_EQ(ids->dispid, 4521u);  // 1 + random % 9999
  EXPECT_EQ(ids->qid, 4u);        // sys-net 1, sys-firewall 2, work 3
  auto q = AddDisposable(p, At("sys-firewall"), *ids);
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ((*q)->spec.name, "disp4521");
  EXPECT_TRUE((*q)->disposable);
  EXPECT_TRUE((*q)->transient);
  // Qubes' vmid_to_ipv4("10.138", 4521): M = 4520, 10.138.(4520/254).(4520%254+1).
  EXPECT_EQ((*q)->addr4.ToString(), "10.138.17.203");
  EXPECT_EQ((*q)->agent.uplink->gateway4.ToString(), "10.137.0.2");
  EXPECT_EQ((*q)->agent.uplink->addr4.ToString(), "10.138.17.203/32");
  EXPECT_EQ((*q)->agent.nameservers[0].ToString(), "10.139.1.1");
  const QubePlan* fw = p.Find("sys-firewall");
  const qube::Client* c = fw->agent.FindClient("disp4521");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->vif, "vif4.0");
  EXPECT_EQ(c->addr4.ToString(), "10.138.17.203");
  ASSERT_EQ(p.links.size(), 3u);
  EXPECT_EQ(p.links.back().client, "disp4521");
}

TEST(Disposable, IdsAreNeverReusedWhileOneLives) {
  Plan p = BasicPlan();
  std::set<uint32_t> dispids, qids;
  // The same random draw every time: each must still get new ids.
  for (int i = 0; i < 50; ++i) {
    auto ids = PickDisposableIds(p, 77);
    ASSERT_TRUE(ids) << ids.error().message();
    EXPECT_TRUE(dispids.insert(ids->dispid).second) << ids->dispid;
    EXPECT_TRUE(qids.insert(ids->qid).second) << ids->qid;
    ASSERT_TRUE(AddDisposable(p, At("sys-firewall"), *ids));
  }
  // Once one is gone, its ids are free again.
  ASSERT_TRUE(RemoveDisposable(p, "disp78"));
  auto again = PickDisposableIds(p, 77);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->dispid, 78u);
  EXPECT_EQ(again->qid, 4u);
}

TEST(Disposable, DispidWrapsAndSkipsNamesAndNamedDisposables) {
  // A qube of the chain is called disp1, and a named disposable has id 2
  // (so 10.138.0.2 is taken).
  Plan p = PlanOfText(
      "[chain]\nname = \"x\"\n[lab]\n"
      "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\nid = 5\n"
      "[qube.disp1]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-net\"\nid = 1\n"
      "[qube.sys-firewall]\nrole = \"firewall\"\nlabel = \"green\"\nnetvm = \"sys-net\"\n"
      "id = 2\ndispvm = true\n");
  EXPECT_EQ(p.Find("sys-firewall")->addr4.ToString(), "10.138.0.2");
  EXPECT_TRUE(p.Find("sys-firewall")->disposable);
  auto ids = PickDisposableIds(p, kMaxDispId - 1);  // starts at 9999
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->dispid, 9999u);
  ASSERT_TRUE(AddDisposable(p, At("sys-net"), *ids));
  auto next = PickDisposableIds(p, kMaxDispId - 1);  // 9999 taken: wraps past 1 and 2
  ASSERT_TRUE(next);
  EXPECT_EQ(next->dispid, 3u);
  EXPECT_EQ(next->qid, 4u);  // 1, 2 and 5 are the chain's, 3 the first disposable's
}

TEST(Disposable, AllDispidsTakenIsUnavailable) {
  Plan p = BasicPlan();
  for (uint32_t d = 1; d <= kMaxDispId; ++d) {
    QubePlan q;
    q.spec.name = DisposableName(d);
    q.spec.id = 100 + d;
    q.disposable = q.transient = true;
    q.dispid = d;
    p.qubes.push_back(q);
  }
  auto ids = PickDisposableIds(p, 5);
  ASSERT_FALSE(ids);
  EXPECT_EQ(ids.error().code(), Errc::kUnavailable);
  EXPECT_EQ(ids.error().message(), "all 9999 disposable ids are in use (disp1..disp9999)");
}

TEST(Disposable, WithoutNetvmHasNoLinkAndNoUplink) {
  Plan p = BasicPlan();
  auto q = AddDisposable(p, DisposableSpec{}, {.qid = 4, .dispid = 10});
  ASSERT_TRUE(q);
  EXPECT_FALSE((*q)->agent.uplink);
  EXPECT_EQ(p.links.size(), 2u);
}

TEST(Disposable, BadNetvmChangesNothing) {
  Plan p = BasicPlan();
  const size_t qubes = p.qubes.size();
  auto missing = AddDisposable(p, At("sys-nope"), {.qid = 4, .dispid = 10});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "netvm 'sys-nope' is not in the chain");
  auto app = AddDisposable(p, At("work"), {.qid = 4, .dispid = 10});
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().message(), "qube 'work' (app) provides no network");
  EXPECT_EQ(p.qubes.size(), qubes);
  EXPECT_EQ(p.Find("sys-firewall")->agent.clients.size(), 1u);
}

TEST(Disposable, FirewallListGoesToTheNetvmAndLeavesWithTheDisposable) {
  Plan p = BasicPlan();
  DisposableSpec s = At("sys-firewall");
  const std::vector<std::string> texts = {"accept dsthost=203.0.113.10", "drop"};
  auto rules = firewall::RuleList::Parse(texts, 1700000000);
  ASSERT_TRUE(rules);
  s.firewall = *rules;
  ASSERT_TRUE(AddDisposable(p, s, {.qid = 4, .dispid = 10}));
  const QubePlan* fw = p.Find("sys-firewall");
  ASSERT_TRUE(fw->firewall.contains("disp10"));
  EXPECT_NE(fw->agent.sections.at("firewall").find("disp10"), std::string::npos);
  ASSERT_TRUE(RemoveDisposable(p, "disp10"));
  fw = p.Find("sys-firewall");
  EXPECT_FALSE(fw->firewall.contains("disp10"));
  EXPECT_EQ(fw->agent.FindClient("disp10"), nullptr);
  EXPECT_EQ(fw->agent.sections.at("firewall").find("disp10"), std::string::npos);
  EXPECT_EQ(p.links.size(), 2u);
  EXPECT_EQ(p.Find("disp10"), nullptr);
}

TEST(Disposable, ChainQubesAreNeverRemovedAsDisposables) {
  Plan p = BasicPlan();
  auto s = RemoveDisposable(p, "work");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "qube 'work' is part of the chain");
  EXPECT_NE(p.Find("work"), nullptr);
  EXPECT_FALSE(RemoveDisposable(p, "disp3"));
}

TEST(TemplateStore, NamesResolveUnderTheTemplatesRootPathsStay) {
  EXPECT_EQ(TemplateDir(""), "");
  EXPECT_EQ(TemplateDir("/srv/tree"), "/srv/tree");
  EXPECT_EQ(TemplateDir("debian-12"), "/var/lib/qnet/templates/debian-12");
  EXPECT_EQ(TemplateDir("deb", "/tmp/t"), "/tmp/t/deb");
}

}  // namespace
}  // namespace qnet::chain

namespace qnet::chain {
namespace {

TEST(Disposable, GraphDrawsItDashedWithAnEdgeToItsNetvm) {
  Plan p = BasicPlan();
  ASSERT_TRUE(AddDisposable(p, At("sys-firewall"), {.qid = 4, .dispid = 4521}));
  const std::string dot = RenderGraph(p);
  EXPECT_NE(dot.find("\"disp4521\" [fillcolor=\"#cc0000\", label=\"disp4521\\napp (disposable)\\n"
                     "10.138.17.203\", style=\"rounded,filled,dashed\"];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"disp4521\" -> \"sys-firewall\";"), std::string::npos) << dot;
  ASSERT_TRUE(RemoveDisposable(p, "disp4521"));
  EXPECT_EQ(RenderGraph(p).find("disp4521"), std::string::npos);
}

}  // namespace
}  // namespace qnet::chain
