// A qube's label: Qubes' trust colour, shown in status output and graphs.
#pragma once

#include <array>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::qube {

enum class Label { kRed, kOrange, kYellow, kGreen, kGray, kBlue, kPurple, kBlack };

// Every label, in Qubes' order (the order error messages list them in).
inline constexpr std::array<Label, 8> kAllLabels = {Label::kRed,    Label::kOrange, Label::kYellow,
                                                    Label::kGreen,  Label::kGray,   Label::kBlue,
                                                    Label::kPurple, Label::kBlack};

// "red", "orange", "yellow", "green", "gray", "blue", "purple" or "black".
std::string_view LabelName(Label label);

// Parses a label name (exact, lower case). The error (kInvalidArgument) names
// the text and lists the valid names:
//   unknown label 'pink' (valid: red, orange, yellow, green, gray, blue, purple, black)
Result<Label> ParseLabel(std::string_view text);

// An ANSI SGR escape that sets the terminal foreground to the label's colour
// (256-colour codes); end the coloured text with kAnsiReset.
std::string_view LabelAnsiColor(Label label);
inline constexpr std::string_view kAnsiReset = "\033[0m";

// Qubes' label colour as "#rrggbb" (for Graphviz): red #cc0000, orange
// #f57900, yellow #edd400, green #73d216, gray #555753, blue #3465a4, purple
// #75507b, black #000000.
std::string_view LabelHexColor(Label label);

}  // namespace qnet::qube
