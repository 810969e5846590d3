#include "qnet/qube/label.h"

#include <fmt/format.h>

#include <string>

namespace qnet::qube {
namespace {

struct LabelRow {
  Label label;
  std::string_view name;
  std::string_view ansi;  // 256-colour foreground closest to the Qubes colour
  std::string_view hex;   // Qubes' own label colour
};

// Indexed by Label; kAllLabels order. Black is drawn as dark gray on
// terminals, where true black would vanish on a dark background.
constexpr LabelRow kLabels[] = {
    {Label::kRed, "red", "\033[38;5;160m", "#cc0000"},
    {Label::kOrange, "orange", "\033[38;5;208m", "#f57900"},
    {Label::kYellow, "yellow", "\033[38;5;220m", "#edd400"},
    {Label::kGreen, "green", "\033[38;5;113m", "#73d216"},
    {Label::kGray, "gray", "\033[38;5;240m", "#555753"},
    {Label::kBlue, "blue", "\033[38;5;67m", "#3465a4"},
    {Label::kPurple, "purple", "\033[38;5;96m", "#75507b"},
    {Label::kBlack, "black", "\033[38;5;236m", "#000000"},
};

const LabelRow& Row(Label label) { return kLabels[static_cast<size_t>(label)]; }

}  // namespace

std::string_view LabelName(Label label) { return Row(label).name; }
std::string_view LabelAnsiColor(Label label) { return Row(label).ansi; }
std::string_view LabelHexColor(Label label) { return Row(label).hex; }

Result<Label> ParseLabel(std::string_view text) {
  std::string valid;
  for (const LabelRow& row : kLabels) {
    if (row.name == text) return row.label;
    if (!valid.empty()) valid += ", ";
    valid += row.name;
  }
  return Fail(Errc::kInvalidArgument, fmt::format("unknown label '{}' (valid: {})", text, valid));
}

}  // namespace qnet::qube
