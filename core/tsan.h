// core/tsan.h: ThreadSanitizer annotations for the deterministic runtime
// (design.md, decision 4). Every virtual thread is a TSan fiber; the runtime
// switches fibers around each resume without synchronizing, so TSan sees the
// virtual threads as concurrent threads; the modeled mmu_lock annotates
// acquire/release; everything but the state the kernel guards with mmu_lock
// is hidden from TSan with ignore regions. In builds without TSan every
// function here is an empty inline.
//
//   TsanFiberPool pool;              // one fiber per virtual thread, reused
//   pool.SwitchTo(t, /*sync=*/true); // first switch of an execution: "start"
//   { TsanVisible v; rmap = 1; }     // the only accesses TSan checks
//   TsanRelease(&lock); TsanAcquire(&lock);
#ifndef SPTEFUZZ_CORE_TSAN_H_
#define SPTEFUZZ_CORE_TSAN_H_

#include <array>

#if defined(SPTEFUZZ_TSAN)
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
// Present in clang-14's runtime but not declared by its header.
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
}
#endif

namespace sptefuzz {

inline constexpr bool kTsanBuild =
#if defined(SPTEFUZZ_TSAN)
    true;
#else
    false;
#endif

// Makes the accesses of its scope visible to TSan inside an ignored fiber.
struct TsanVisible {
#if defined(SPTEFUZZ_TSAN)
  TsanVisible() { __tsan_ignore_thread_end(); }
  ~TsanVisible() { __tsan_ignore_thread_begin(); }
#endif
  TsanVisible(const TsanVisible&) = delete;
  TsanVisible& operator=(const TsanVisible&) = delete;
#if !defined(SPTEFUZZ_TSAN)
  TsanVisible() = default;
#endif
};

// Hides the accesses of its scope from TSan (the executor's bookkeeping).
struct TsanHidden {
#if defined(SPTEFUZZ_TSAN)
  TsanHidden() { __tsan_ignore_thread_begin(); }
  ~TsanHidden() { __tsan_ignore_thread_end(); }
#endif
  TsanHidden(const TsanHidden&) = delete;
  TsanHidden& operator=(const TsanHidden&) = delete;
#if !defined(SPTEFUZZ_TSAN)
  TsanHidden() = default;
#endif
};

inline void TsanAcquire(void* addr) {
#if defined(SPTEFUZZ_TSAN)
  __tsan_acquire(addr);
#else
  (void)addr;
#endif
}
inline void TsanRelease(void* addr) {
#if defined(SPTEFUZZ_TSAN)
  __tsan_release(addr);
#else
  (void)addr;
#endif
}

// A fixed set of fibers, created once and reused by every execution: TSan
// keeps ~270 bytes for every fiber ever created, so creating fibers per
// execution would exhaust memory in a long fuzzing process.
template <int N>
class TsanFiberPool {
 public:
  TsanFiberPool() {
#if defined(SPTEFUZZ_TSAN)
    main_ = __tsan_get_current_fiber();
    static const char* const kNames[] = {"vthread-0", "vthread-1", "vthread-2", "vthread-3",
                                         "vthread-4", "vthread-5", "vthread-6", "vthread-7"};
    for (int i = 0; i < N; ++i) {
      fibers_[i] = __tsan_create_fiber(0);
      __tsan_set_fiber_name(fibers_[i], kNames[i % 8]);
      // Every virtual thread runs with reads and writes ignored; model code
      // opens TsanVisible windows for the state mmu_lock guards.
      __tsan_switch_to_fiber(fibers_[i], 0);
      __tsan_ignore_thread_begin();
      __tsan_switch_to_fiber(main_, 0);
    }
#endif
  }
  ~TsanFiberPool() {
#if defined(SPTEFUZZ_TSAN)
    for (int i = 0; i < N; ++i) {
      // A fiber must not end with its ignore region open.
      __tsan_switch_to_fiber(fibers_[i], 0);
      __tsan_ignore_thread_end();
      __tsan_switch_to_fiber(main_, 0);
      __tsan_destroy_fiber(fibers_[i]);
    }
#endif
  }
  TsanFiberPool(const TsanFiberPool&) = delete;
  TsanFiberPool& operator=(const TsanFiberPool&) = delete;

  // Enter virtual thread i's fiber. `sync` only for the first switch of an
  // execution (thread start).
  void Enter(int i, bool sync) {
#if defined(SPTEFUZZ_TSAN)
    __tsan_switch_to_fiber(fibers_[i], sync ? 0 : kNoSync);
#else
    (void)i;
    (void)sync;
#endif
  }
  // Back to the executor's fiber. `sync` only when the thread finished or
  // the execution ends (thread join).
  void Leave(bool sync) {
#if defined(SPTEFUZZ_TSAN)
    __tsan_switch_to_fiber(main_, sync ? 0 : kNoSync);
#else
    (void)sync;
#endif
  }

 private:
  static constexpr unsigned kNoSync = 1;  // __tsan_switch_to_fiber_no_sync
#if defined(SPTEFUZZ_TSAN)
  void* main_ = nullptr;
  std::array<void*, N> fibers_{};
#endif
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_TSAN_H_
