#include "core/spte.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sptefuzz {
namespace {

constexpr SpteFlagName kFlagNames[] = {
    {kSptePresent, "P"},  {kSpteR, "R"},          {kSpteW, "W"},          {kSpteX, "X"},
    {kSpteA, "A"},        {kSpteD, "D"},          {kSpteLarge, "L"},      {kSpteHostW, "HW"},
    {kSpteMmuW, "MW"},    {kSpteAccTrk, "AT"},    {kSpteSavedR, "SR"},    {kSpteSavedX, "SX"},
    {kSpteFrozen, "FROZEN"},
};

}  // namespace

const SpteFlagName* SpteFlagNames(int* count) {
  *count = static_cast<int>(sizeof(kFlagNames) / sizeof(kFlagNames[0]));
  return kFlagNames;
}

std::string SpteToString(Spte s) {
  if (s == 0) return "0";
  std::string out;
  for (const SpteFlagName& f : kFlagNames) {
    if (s & f.bit) {
      if (!out.empty()) out += ' ';
      out += f.name;
    }
  }
  if (SptePfn(s) != 0) {
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, "pfn=", SptePfn(s));
  }
  return out;
}

absl::StatusOr<Spte> ParseSpte(absl::string_view text) {
  Spte s = 0;
  std::vector<absl::string_view> toks = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (toks.empty()) return absl::InvalidArgumentError("empty spte: expected flags such as 'P A HW MW' or '0'");
  for (absl::string_view t : toks) {
    if (t == "0" || t == "-") continue;
    bool found = false;
    for (const SpteFlagName& f : kFlagNames) {
      if (t == f.name) {
        s |= f.bit;
        found = true;
        break;
      }
    }
    if (found) continue;
    if (absl::StartsWith(t, "pfn=")) {
      int pfn = 0;
      if (!absl::SimpleAtoi(t.substr(4), &pfn) || pfn < 0 || pfn > 255) {
        return absl::InvalidArgumentError(absl::StrCat("bad pfn '", t, "': expected pfn=0..255"));
      }
      s = SpteWithPfn(s, pfn);
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown spte flag '", t, "': expected one of P R W X A D L HW MW AT SR SX FROZEN pfn=N"));
  }
  return s;
}

}  // namespace sptefuzz
