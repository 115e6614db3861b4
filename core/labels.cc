#include "core/labels.h"

namespace sptefuzz {
namespace {
struct LabelInfo {
  const char* name;
  const char* function;
};
constexpr LabelInfo kLabels[] = {
#define SPTEFUZZ_LABEL_INFO(e, n, f) {n, f},
    SPTEFUZZ_LABELS(SPTEFUZZ_LABEL_INFO)
#undef SPTEFUZZ_LABEL_INFO
};
}  // namespace

const char* LabelName(Label l) { return kLabels[static_cast<int>(l)].name; }
const char* LabelFunction(Label l) { return kLabels[static_cast<int>(l)].function; }

std::optional<Label> ParseLabel(absl::string_view name) {
  for (int i = 0; i < kLabelCount; ++i) {
    if (name == kLabels[i].name) return static_cast<Label>(i);
  }
  return std::nullopt;
}

}  // namespace sptefuzz
