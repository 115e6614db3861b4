#include "core/task.h"

namespace sptefuzz {

void Arena::NextChunk() {
  if (chunk_ == chunks_.size()) chunks_.emplace_back(new (std::align_val_t{16}) std::byte[kChunk]);
  ++chunk_;
  used_ = 0;
}

}  // namespace sptefuzz
