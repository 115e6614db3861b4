// core/task.h: the coroutine type of virtual threads, and its frame arena.
//
// Model code is written as coroutines returning Task; a call to another
// Task-returning function is `co_await Callee(...)`, which starts the callee
// by symmetric transfer and resumes the caller when it finishes. Frames come
// from the Arena that is current on this OS thread; the executor resets it
// per execution, so steady-state execution allocates nothing.
//
// Convention (relied upon for speed): coroutine frames are never destroyed,
// only dropped when the arena is reset. Locals in model coroutines must be
// trivially destructible (no std::string, no std::vector).
//
//   Arena arena;
//   ArenaScope scope(&arena);
//   Task t = Body(...);   // suspended at its start
//   t.handle().resume();  // runs until its first scheduling point
#ifndef SPTEFUZZ_CORE_TASK_H_
#define SPTEFUZZ_CORE_TASK_H_

#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include "core/check.h"

namespace sptefuzz {

class Arena {
 public:
  static constexpr size_t kChunk = 64 * 1024;
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* Alloc(size_t n) {
    n = (n + 15) & ~size_t{15};
    SPTEFUZZ_CHECK(n <= kChunk);
    if (chunk_ == 0 || used_ + n > kChunk) NextChunk();
    void* p = chunks_[chunk_ - 1].get() + used_;
    used_ += n;
    return p;
  }
  // Forgets every frame; keeps the memory for the next execution.
  void Reset() {
    chunk_ = 0;
    used_ = kChunk;
  }
  size_t chunks() const { return chunks_.size(); }

  // Checkpoints (Model::SaveCheckpoint): the frames of a run copied out and,
  // later, back to the same addresses, which is all a frame needs (it
  // holds pointers into this arena and into the model, both fixed, and its
  // locals are trivially destructible, see the convention above). Only a
  // run that still fits in its first chunk is copied: false otherwise.
  bool CopyOut(std::vector<std::byte>* out) const {
    if (chunk_ != 1) return false;
    const std::byte* base = chunks_[0].get();
    out->assign(base, base + used_);
    return true;
  }
  // Rewinds the arena to what CopyOut saw; frames allocated since are dropped.
  void CopyIn(const std::vector<std::byte>& in) {
    SPTEFUZZ_CHECK(!chunks_.empty() && in.size() <= kChunk);
    chunk_ = 1;
    used_ = in.size();
    std::memcpy(chunks_[0].get(), in.data(), in.size());
  }

 private:
#ifdef SPTEFUZZ_ARENA_GROWTH_OUT_OF_LINE
  // libFuzzer builds: out of line (core/task.cc), because whether it
  // allocates depends on the runs before, so it must stay out of the
  // actors' coverage instrumentation, which inlines Alloc()
  // (fuzz/run_reuse.h). Elsewhere inline: the out-of-line call made the DFS
  // 4-8% slower (2-op space), even cold.
  [[gnu::noinline, gnu::cold]] void NextChunk();
#else
  void NextChunk() {
    if (chunk_ == chunks_.size()) chunks_.emplace_back(new (std::align_val_t{16}) std::byte[kChunk]);
    ++chunk_;
    used_ = 0;
  }
#endif
  struct Deleter {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{16}); }
  };
  std::vector<std::unique_ptr<std::byte[], Deleter>> chunks_;
  size_t chunk_ = 0;   // chunks in use (the last one is being filled)
  size_t used_ = kChunk;
};

namespace internal {
inline thread_local Arena* current_arena = nullptr;
}

class ArenaScope {
 public:
  explicit ArenaScope(Arena* a) : prev_(internal::current_arena) { internal::current_arena = a; }
  ~ArenaScope() { internal::current_arena = prev_; }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena* prev_;
};

class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::coroutine_handle<> continuation;

    static void* operator new(size_t n) {
      SPTEFUZZ_CHECK(internal::current_arena != nullptr);
      return internal::current_arena->Alloc(n);
    }
    static void operator delete(void*, size_t) noexcept {}

    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        std::coroutine_handle<> c = h.promise().continuation;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };

  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> handle() const { return h_; }

  // Awaiting a Task runs it to completion (through its own scheduling points).
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  void await_resume() const noexcept {}

 private:
  std::coroutine_handle<promise_type> h_;
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_TASK_H_
