#include "graph.h"

#include <gtest/gtest.h>

#include "qnet/chain/plan.h"
#include "qnet/config/chain_file.h"
#include "registry.h"

namespace qnet::chain {
namespace {

Plan PlanOf(const std::string& path) {
  auto spec = config::ParseChainFile(path, BuildKeyRegistry());
  EXPECT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  EXPECT_TRUE(plan) << plan.error().message();
  return *plan;
}

TEST(Graph, BasicChainRendersEachQubeInItsLabelColourWithEdgesToNetvmAndLab) {
  Plan p = PlanOf(std::string(QNET_SOURCE_DIR) + "/configs/basic.toml");
  EXPECT_EQ(RenderGraph(p),
            "digraph \"basic\" {\n"
            "  rankdir=LR;\n"
            "  node [shape=box, style=\"rounded,filled\", fontcolor=white];\n"
            "  \"sys-net\" [fillcolor=\"#cc0000\", label=\"sys-net\\nnet\\n10.137.0.1\"];\n"
            "  \"sys-net\" -> \"lab\";\n"
            "  \"sys-firewall\" [fillcolor=\"#73d216\", "
            "label=\"sys-firewall\\nfirewall\\n10.137.0.2\"];\n"
            "  \"sys-firewall\" -> \"sys-net\";\n"
            "  \"work\" [fillcolor=\"#3465a4\", label=\"work\\napp\\n10.137.0.3\"];\n"
            "  \"work\" -> \"sys-firewall\";\n"
            "  \"lab\" [shape=ellipse, fillcolor=\"#888a85\", "
            "label=\"lab internet\\n198.51.100.1\"];\n"
            "}\n");
}

TEST(Graph, ChainWithoutLabHasNoLabNode) {
  Plan p = PlanOf(std::string(QNET_SOURCE_DIR) + "/configs/basic.toml");
  p.lab = false;
  const std::string g = RenderGraph(p);
  EXPECT_EQ(g.find("\"lab\""), std::string::npos) << g;
  EXPECT_NE(g.find("\"work\" -> \"sys-firewall\";"), std::string::npos) << g;
}

}  // namespace
}  // namespace qnet::chain
