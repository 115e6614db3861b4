#include "core/task.h"

namespace sptefuzz {

#ifdef SPTEFUZZ_ARENA_GROWTH_OUT_OF_LINE
void Arena::NextChunk() {
  if (chunk_ == chunks_.size()) chunks_.emplace_back(new (std::align_val_t{16}) std::byte[kChunk]);
  ++chunk_;
  used_ = 0;
}
#endif

}  // namespace sptefuzz
