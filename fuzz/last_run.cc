#include "fuzz/last_run.h"

#include <algorithm>

namespace sptefuzz {

void LastRun::Record(const uint8_t* data, size_t size, const std::vector<uint8_t>& steps) {
  // assign() reuses the buffers: no allocation once they have grown.
  input_.assign(data, data + size);
  steps_.assign(steps.begin(), steps.end());
  valid_ = true;
}

const std::vector<uint8_t>* LastRun::StepsOf(const uint8_t* data, size_t size) const {
  if (!valid_ || size != input_.size() || !std::equal(input_.begin(), input_.end(), data)) return nullptr;
  return &steps_;
}

LastRun& GetLastRun() {
  static LastRun* r = new LastRun();
  return *r;
}

}  // namespace sptefuzz
