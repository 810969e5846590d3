#include "graph.h"

#include <fmt/format.h>

#include "qnet/qube/label.h"
#include "qnet/qube/role.h"

namespace qnet::chain {

std::string RenderGraph(const Plan& plan) {
  std::string out = fmt::format(
      "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
      "fontcolor=white];\n",
      plan.chain_name);
  for (const QubePlan& q : plan.qubes) {
    // A disposable is drawn dashed, as it lives only as long as its command
    // (or, named, until `down`).
    out += fmt::format("  \"{}\" [fillcolor=\"{}\", label=\"{}\\n{}{}\\n{}\"{}];\n", q.spec.name,
                       qube::LabelHexColor(q.spec.label), q.spec.name, qube::RoleName(q.spec.role),
                       q.disposable ? " (disposable)" : "", q.addr4,
                       q.disposable ? ", style=\"rounded,filled,dashed\"" : "");
    if (q.spec.netvm) out += fmt::format("  \"{}\" -> \"{}\";\n", q.spec.name, *q.spec.netvm);
    if (q.spec.role == qube::Role::kNet && plan.lab)
      out += fmt::format("  \"{}\" -> \"lab\";\n", q.spec.name);
  }
  if (plan.lab)
    out +=
        "  \"lab\" [shape=ellipse, fillcolor=\"#888a85\", label=\"lab "
        "internet\\n198.51.100.1\"];\n";
  out += "}\n";
  return out;
}

}  // namespace qnet::chain
