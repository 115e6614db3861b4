// core/scenarios.h: the 3.6-era ground-truth scenarios of spec §7 as
// TestCases with explicit schedules, shared by tests and benchmarks.
//
//   TestCase s1 = ScenarioS1();   // lost D bit: wb racing a fast-path write
//   Executor ex; SegmentScheduler seg;
//   ex.Run(s1, FindPreset("v5-patch")->rules, seg);   // lost-page-dirty
#ifndef SPTEFUZZ_CORE_SCENARIOS_H_
#define SPTEFUZZ_CORE_SCENARIOS_H_

#include "core/testcase.h"

namespace sptefuzz {

// S1 (B1): K zaps/writes back g0 and reads it at Z1; vCPU0's write fault
// makes it writable through the fast path and dirties it; K's plain store
// at Z2 then loses D. Threads: 0 kvm "wb g0", 1 vcpu0 "write g0".
TestCase ScenarioS1();
// S2 (B2): g0 becomes a shadowed page table while dirty logging left it
// read-only but MMU-writable; vCPU1's slow-path fault reads it, vCPU0 makes
// it writable through the fast path. Threads: 0 kvm "wp-pt g0",
// 1 vcpu1 "fault g0", 2 vcpu0 "write g0".
TestCase ScenarioS2();
// S3 (B3, b3-fast-pf-indirect-sp-aba vs linux-3.6): slot g0 of an indirect
// shadow page (config indirect=on) maps g0, read-only but MMU-writable;
// vCPU0's write fault reads it in the fast path (F2); vCPU1 repoints the
// guest PTE to g4 (kvm_mmu_pte_write: zap, prefetch of the same value plus
// W, no remote flush); the harvest write-protects it back to the value F2
// read, and the fast path's cmpxchg succeeds for the wrong gfn. Threads:
// 0 vcpu0 "write g0", 1 vcpu1 "remap g0", 2 kvm "harvest".
TestCase ScenarioS3();
// S4 (B4, b4-fast-pf-large-spte-logs-base-gfn vs linux-3.15): one writable
// large leaf (config large=on) maps g0..g3 with logging off; enabling dirty
// logging keeps it read-only but MMU-writable; vCPU0's write to g2 faults
// and the fast path makes the large leaf writable, marking only its base
// gfn g0; the writes to g2 and g3 go through it; the harvest reports g0 and
// write-protects 4K rmaps only. Threads: 0 kvm "enable-log",
// 1 vcpu0 "write g2; write g3", 2 kvm "harvest".
TestCase ScenarioS4();
// S5 (B5): the harvest defers its flush past spin_unlock while page-table
// write protection decides its flush from W(old). Threads: 0 kvm "harvest",
// 1 kvm "wp-pt g0", 2 vcpu0 "write g0".
TestCase ScenarioS5();
// S6 (B6, linux-5.10 vs linux-5.18): TDP MMU page-table write protection of
// a read-only but MMU-writable g0; the fast path then makes it writable.
// Threads: 0 kvm "wp-pt g0", 1 vcpu0 "write g0".
TestCase ScenarioS6();
// S7a (B7): a TDP MMU zap under the write lock snapshots g0 at T0; vCPU0's
// write goes through the fast path and sets D; the zap's plain store loses
// it. Threads: 0 kvm "wb g0", 1 vcpu0 "write g0".
TestCase ScenarioS7a();
// S7b (B7): TDP MMU aging under the write lock snapshots g0 at T0; the fast
// path sets W; aging's plain store clears it again under a writable TLB
// entry. Threads: 0 kvm "age g0", 1 vcpu0 "write g0".
TestCase ScenarioS7b();
// S8 (B8, linux-4.12): EPT without A/D; clear_young marks the writable g0
// access-tracked without a flush; enabling dirty logging finds nothing to
// write-protect and skips its flush. Threads: 0 kvm "clear-young g0",
// 1 kvm "enable-log", 2 vcpu0 "write g0".
TestCase ScenarioS8();
// S11 (B11): TDP MMU, PML, logging on, g0 not mapped. vCPU0's write fault
// installs g0 writable and dirty and fills a {w d} TLB entry; vCPU1's
// write fault, which lost the race, rebuilds the spte without D (make_spte
// skips D over a writable old spte) and does not flush; the harvest finds
// no D to clear and, with its flush conditional on a change, returns with
// vCPU0 still caching the dirty entry, whose writes PML never logs.
// Threads: 0 vcpu0 "write g0; write g0", 1 vcpu1 "fault g0", 2 kvm "harvest".
TestCase ScenarioS11();
// S13 (B13): EPT without A/D, TDP MMU, lockless aging. The harvest's
// write-lock clear of W snapshots g0 at T0; lockless aging marks it
// access-tracked; the harvest's store undoes the access tracking unless the
// store is atomic. Threads: 0 kvm "harvest", 1 kvm "age g0".
TestCase ScenarioS13();
// S12 (B12): vcpu0 caches g0 (P A D W) writable and dirty. A gfn-range zap
// (TDP MMU) zaps g0 in root 1 and yields mmu_lock at root 2 (through ZY1);
// page-table write protection of g0 and vcpu0's write run while it is free.
TestCase ScenarioS12();
// S14 (B14): change_pte (KSM) replaces writable g0 by a host-read-only spte
// that keeps MMU_W; vCPU0's write fault goes through a fast path gated on
// MMU_W alone. Threads: 0 kvm "change-pte g0", 1 vcpu0 "write g0".
TestCase ScenarioS14();
// S9 (B9, b9-sync-page-tlbs-dirty vs linux-3.6): vCPU0 caches writable g0;
// vCPU1 syncs the unsync shadow page whose guest PTE for g0 changed and
// drops the spte, deferring the remote flush to kvm->tlbs_dirty; g0 then
// becomes a guest page table, whose write protection finds no rmap and does
// not flush. Threads: 0 vcpu1 "sync-drop g0", 1 kvm "wp-pt g0",
// 2 vcpu0 "write g0".
TestCase ScenarioS9();
// S10 (B10, b10-sync-page-dirty-lost vs linux-3.6), with A/D bits: vCPU0
// writes g0 (the walk sets D); vCPU1 syncs the guest PTE that became
// read-only and rewrites the spte from scratch (no D); the writeback's zap
// sees a clean spte. Threads: 0 vcpu0 "write g0", 1 vcpu1 "sync-ro g0",
// 2 kvm "wb g0". (Spec §7 tells it with A/D off, where 3.6's zap marks every
// page dirty; corpus/regressions/S10-spec-*.repro add 4.12's is_dirty_spte.)
TestCase ScenarioS10();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_SCENARIOS_H_
