// The text repro format: parse/print round trips and precise errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/program_gen.h"
#include "core/scenarios.h"
#include "repro/repro_format.h"
#include "repro/repro_test_util.h"

namespace sptefuzz {
namespace {

constexpr const char* kDesignExample =
    "# S1: lost D bit, spec §7\n"
    "sptefuzz-repro 1\n"
    "rules v5-patch\n"
    "config vcpus=1 gfns=1 ad=on logging=on\n"
    "spte g0 = P A HW MW\n"
    "thread 0 kvm: zap g0\n"
    "thread 1 vcpu0: write g0\n"
    "schedule: 0 through Z1; 1 to end; 0 to end\n"
    "expect violation lost-page-dirty\n";

TEST(ParseReproTest, DesignExample) {
  absl::StatusOr<Repro> r = ParseRepro(kDesignExample);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->comments, std::vector<std::string>{"S1: lost D bit, spec §7"});
  EXPECT_EQ(r->rules, "v5-patch");
  EXPECT_EQ(r->tc.config.vcpus, 1);
  EXPECT_TRUE(r->tc.config.logging);
  EXPECT_EQ(r->tc.config.init_spte[0], kSptePresent | kSpteA | kSpteHostW | kSpteMmuW);
  ASSERT_EQ(r->tc.threads.size(), 2u);
  EXPECT_EQ(r->tc.threads[0].kind, ThreadKind::kKernel);
  EXPECT_EQ(r->tc.threads[0].ops, (std::vector<Op>{{OpKind::kZap, 0}}));
  EXPECT_EQ(r->tc.threads[1].kind, ThreadKind::kVcpu);
  ASSERT_EQ(r->tc.schedule.size(), 3u);
  EXPECT_EQ(r->tc.schedule[0], (Segment{0, SegmentKind::kThrough, Label::kZ1, 1}));
  EXPECT_EQ(r->tc.schedule[1], (Segment{1, SegmentKind::kToEnd, Label::kH1, 1}));
  ASSERT_TRUE(r->expect.has_value());
  EXPECT_EQ(*r->expect, (Expect{true, Invariant::kLostPageDirty}));
}

TEST(ParseReproTest, ScenariosRoundTrip) {
  for (const TestCase& tc : {ScenarioS1(), ScenarioS2(), ScenarioS4(), ScenarioS5(), ScenarioS11()}) {
    Repro r;
    r.comments = {"scenario", "", " indented"};
    r.rules = "linux-3.6";
    r.knobs = {{"harvest-flush", "after-unlock"}};
    r.tc = tc;
    r.expect = Expect{true, Invariant::kFlushPlacement};
    const std::string text = PrintRepro(r);
    absl::StatusOr<Repro> back = ParseRepro(text);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    EXPECT_EQ(*back, r) << text;
    EXPECT_EQ(PrintRepro(*back), text);
  }
}

// Parse(Print(x)) == x over random programs, schedules, knobs and verdicts.
TEST(ParseReproTest, RandomRoundTrip) {
  SplitMix64 rng(2024);
  GenOptions gen;
  gen.max_vcpus = kMaxVcpus;
  gen.max_gfns = kMaxGfns;
  gen.max_kernel_threads = 3;
  gen.max_ops = kMaxOpsPerThread;
  gen.allow_adversarial_dassist = true;
  for (int i = 0; i < 3000; ++i) {
    Repro r = RandomRepro(rng, gen);
    const std::string text = PrintRepro(r);
    absl::StatusOr<Repro> back = ParseRepro(text);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    ASSERT_EQ(*back, r) << text;
    ASSERT_EQ(PrintRepro(*back), text);
  }
}

// Whatever the spacing, comments and key order, printing gives one text.
TEST(ParseReproTest, PrintingIsCanonical) {
  const char* messy =
      "\n"
      "#first\n"
      "#\n"
      "   # third, indented\n"
      "\n"
      "sptefuzz-repro   1\r\n"
      "# a comment in the middle is dropped\n"
      "rules\tlinux-3.6\n"
      "knob harvest-flush = after-unlock\n"
      "config logging=on gfns=2 vcpus=2\n"
      "spte g1 = MW HW A P\n"
      "spte g0 = 0\n"
      "tlb vcpu1 g1 = r\n"
      "bitmap g1\n"
      "thread 0 vcpu1:write g1;read g0\n"
      "thread 1 kvm: harvest ;wp-pt g1\n"
      "thread 2 kvm:\n"
      "schedule:0 through G4 #1;1 for 2; 0 through H4#2 ; 2 to end\n"
      "expect violation I10\n";
  absl::StatusOr<Repro> r = ParseRepro(messy);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string canonical =
      "# first\n"
      "#\n"
      "# third, indented\n"
      "sptefuzz-repro 1\n"
      "rules linux-3.6\n"
      "knob harvest-flush=after-unlock\n"
      "config vcpus=2 gfns=2 ad=on logging=on dassist=strict\n"
      "spte g1 = P A HW MW\n"
      "tlb vcpu1 g1 = r\n"
      "bitmap g1\n"
      "thread 0 vcpu1: write g1; read g0\n"
      "thread 1 kvm: harvest; wp-pt g1\n"
      "thread 2 kvm:\n"
      "schedule: 0 through G4; 1 for 2; 0 through H4 #2; 2 to end\n"
      "expect violation flush-placement\n";
  EXPECT_EQ(PrintRepro(*r), canonical);
  absl::StatusOr<Repro> again = ParseRepro(canonical);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *r);
}

// pml=on is printed only when set (files from before PML stay canonical).
TEST(ParseReproTest, PmlConfigKey) {
  absl::StatusOr<Repro> r =
      ParseRepro("sptefuzz-repro 1\nrules linux-6.15\nconfig pml=on logging=on\nthread 0 vcpu0: write g0\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->tc.config.pml);
  const std::string text = PrintRepro(*r);
  EXPECT_NE(text.find("config vcpus=1 gfns=1 ad=on logging=on dassist=strict pml=on\n"), std::string::npos) << text;
  r->tc.config.pml = false;
  EXPECT_NE(PrintRepro(*r).find("dassist=strict\n"), std::string::npos);
  absl::StatusOr<Repro> off = ParseRepro("sptefuzz-repro 1\nrules linux-6.15\nconfig pml=off\nthread 0 vcpu0: read g0\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->tc.config.pml);
}

TEST(ParseReproTest, LargeConfigKey) {
  const std::string head = "sptefuzz-repro 1\nrules linux-3.15\nconfig gfns=2 large=on\n";
  absl::StatusOr<Repro> r = ParseRepro(head + "spte g0 = P W A L HW MW\nthread 0 vcpu0: write g1\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->tc.config.large);
  const std::string text = PrintRepro(*r);
  EXPECT_NE(text.find("config vcpus=1 gfns=2 ad=on logging=off dassist=strict large=on\n"), std::string::npos) << text;
  // The large leaf is g0's, and it must be there.
  EXPECT_FALSE(ParseRepro(head + "spte g0 = P W A HW MW\nthread 0 vcpu0: write g1\n").ok());
  EXPECT_FALSE(ParseRepro("sptefuzz-repro 1\nrules linux-3.15\nconfig gfns=2\nspte g1 = P W A L HW MW\n"
                          "thread 0 vcpu0: write g1\n").ok());
}

TEST(ParseReproTest, IndirectConfigKeyAndRemapOp) {
  const std::string text =
      "sptefuzz-repro 1\nrules linux-3.6\nconfig vcpus=2 gfns=1 ad=on logging=on dassist=strict indirect=on\n"
      "spte g0 = P HW MW\nthread 0 vcpu0: write g0\nthread 1 vcpu1: remap g0\nthread 2 kvm: harvest\n"
      "schedule: 0 through F2; 1 to end; 2 to end; 0 to end\nexpect ok\n";
  absl::StatusOr<Repro> r = ParseRepro(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->tc.config.indirect);
  EXPECT_EQ(r->tc.threads[1].ops[0].kind, OpKind::kRemap);
  EXPECT_EQ(PrintRepro(*r), text);
  EXPECT_FALSE(ParseRepro("sptefuzz-repro 1\nrules linux-3.6\nconfig indirect=on\nthread 0 kvm: wp-pt g0\n").ok());
}

// With logging on at the start, a writable spte has logged its gfn: the
// bitmap line must say so (it comes after the spte lines).
TEST(ParseReproTest, WritableSpteUnderLoggingNeedsItsBitmapBit) {
  const std::string head = "sptefuzz-repro 1\nrules linux-3.6\nconfig logging=on\nspte g0 = P W A HW MW\n";
  absl::StatusOr<Repro> ok = ParseRepro(head + "bitmap g0\nthread 0 vcpu0: write g0\n");
  ASSERT_TRUE(ok.ok()) << ok.status();
  absl::StatusOr<Repro> bad = ParseRepro(head + "thread 0 vcpu0: write g0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be set in the initial dirty bitmap"), std::string::npos) << bad.status();
  // Without logging the same spte needs no bitmap bit.
  absl::StatusOr<Repro> nolog =
      ParseRepro("sptefuzz-repro 1\nrules linux-3.6\nconfig\nspte g0 = P W A HW MW\nthread 0 vcpu0: write g0\n");
  EXPECT_TRUE(nolog.ok()) << nolog.status();
}

TEST(ParseReproTest, MinimalFileUsesDefaults) {
  absl::StatusOr<Repro> r = ParseRepro("sptefuzz-repro 1\nrules linux-3.6\nconfig\nthread 0 vcpu0: read g0\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tc.config, Config{});
  EXPECT_TRUE(r->tc.schedule.empty());
  EXPECT_FALSE(r->expect.has_value());
}

std::string PresetList() {
  std::vector<std::string> names;
  for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
  return absl::StrJoin(names, ", ");
}

// A header that parses, to put one bad line after.
std::string Head(const char* config = "config vcpus=2 gfns=2 ad=on logging=on") {
  return absl::StrCat("sptefuzz-repro 1\nrules linux-3.6\n", config, "\n");
}

TEST(ParseReproTest, MalformedInputsNameLineColumnFoundAndExpected) {
  const std::string h = Head();                  // lines 1-3
  const std::string t = h + "thread 0 vcpu0: write g0\n";  // line 4
  const std::string t2 = t + "thread 1 kvm: zap g1\n";   // line 5
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "1:1: found end of file, expected 'sptefuzz-repro 1' (the version line)"},
      {"# only a comment\n", "2:1: found end of file, expected 'sptefuzz-repro 1' (the version line)"},
      {"rules v5-patch\n", "1:1: found 'rules', expected 'sptefuzz-repro 1' (the version line)"},
      {"sptefuzz-repro 2\n", "1:16: found '2', expected the format version 1"},
      {"sptefuzz-repro\n", "1:15: found end of line, expected the format version 1"},
      {"sptefuzz-repro 1 x\n", "1:18: found 'x', expected end of line"},
      {"sptefuzz-repro 1\n", "2:1: found end of file, expected 'rules'"},
      {"sptefuzz-repro 1\nrules linux-9\n", "2:7: found 'linux-9', expected a rules preset (" + PresetList() + ")"},
      {"sptefuzz-repro 1\nrules linux-3.6\n", "3:1: found end of file, expected 'knob' or 'config'"},
      {"sptefuzz-repro 1\nrules linux-3.6\nknob flush=sometimes\n",
       "3:12: found 'sometimes', expected one of snapshot-w, old-w..."},
      {"sptefuzz-repro 1\nrules linux-3.6\nknob flush old-w\n", "3:12: found 'old-w', expected '=' after the knob name"},
      {"sptefuzz-repro 1\nrules linux-3.6\nknob flush=old-w\nknob flush=old-w\n",
       "4:6: found 'flush', expected each knob at most once ('flush' was set already)"},
      {"sptefuzz-repro 1\nrules linux-3.6\nconfig vcpus=4\n", "3:14: found '4', expected a number of vCPUs, 1..3"},
      {"sptefuzz-repro 1\nrules linux-3.6\nconfig vcpus=1 vcpus=1\n",
       "3:16: found 'vcpus', expected each config key once ('vcpus' was given already)"},
      {"sptefuzz-repro 1\nrules linux-3.6\nconfig ad=yes\n", "3:11: found 'yes', expected 'on' or 'off'"},
      {"sptefuzz-repro 1\nrules linux-3.6\nconfig hugepages=on\n",
       "3:8: found 'hugepages', expected a config key (vcpus, gfns, ad, logging, dassist, pml, large, indirect)"},
      {"sptefuzz-repro 1\nrules linux-6.15\nconfig pml=on ad=off\n",
       "3:12: found 'on', expected 'off': pml=on needs ad=on (PML logs EPT D-bit updates)"},
      {"sptefuzz-repro 1\nrules linux-6.15\nconfig pml=yes\n", "3:12: found 'yes', expected 'on' or 'off'"},
      {"sptefuzz-repro 1\nrules linux-3.6\nconfig gfns=\xff\n", "3:13: found '\\xff', expected a number of gfns, 1..4"},
      {h, "4:1: found end of file, expected 'thread'"},
      {h + "spte g2 = P\n", "4:6: found 'g2', expected a gfn g0..g1 (config gfns=2)"},
      {h + "spte g0 = P Q\n", "4:13: found 'Q', expected an spte flag (P R W X A D L HW MW AT SR SX FROZEN) or end of line"},
      {h + "spte g0 =\n", "4:10: found end of line, expected spte flags such as 'P A HW MW', or 0"},
      {h + "spte g0 = P W\n", "4:11: spte g0 has W without MW (invariant I8a)"},
      {h + "spte g1 = P\nspte g1 = P\n", "5:6: found 'g1', expected each gfn once (spte g1 was given already)"},
      {h + "spte g0 = 0 P\n", "4:13: found 'P', expected nothing after '0'"},
      {h + "tlb vcpu0 g0 = r\n", "4:16: tlb v0 g0: spte g0 is not present"},
      {h + "spte g0 = P A HW MW\ntlb vcpu0 g0 = w\n", "5:16: tlb v0 g0 is writable but spte g0 has no W"},
      {h + "spte g0 = P A HW MW\ntlb vcpu2 g0 = r\n", "5:5: found 'vcpu2', expected a vCPU vcpu0..vcpu1 (config vcpus=2)"},
      {h + "spte g0 = P A HW MW\ntlb vcpu0 g0 = r w\n", "5:18: found 'w', expected end of line after 'r'"},
      {h + "spte g0 = P A HW MW\ntlb vcpu0 g0 = r\ntlb vcpu0 g0 = r\n",
       "6:5: found 'vcpu0', expected each tlb entry once (vcpu0 g0 was given already)"},
      {h + "bitmap g1 g0\n", "4:11: found 'g0', expected gfns in increasing order, each once (after g1)"},
      {h + "bitmap\n", "4:7: found end of line, expected the gfns set in the dirty bitmap (g0 g1 ...)"},
      {h + "thread 1 kvm: zap g0\n", "4:8: found '1', expected thread number 0 (threads are numbered in order from 0)"},
      {h + "thread 0 vcpu2: read g0\n", "4:10: found 'vcpu2', expected 'kvm' or a vCPU vcpu0..vcpu1 (config vcpus=2)"},
      {t + "thread 1 vcpu0: read g0\n", "5:10: found 'vcpu0', expected one thread per vCPU (thread 0 is vcpu0 already)"},
      {h + "thread 0 vcpu0: zap g0\n", "4:17: found 'zap', expected a vCPU op (read, write, fault, sync-drop, sync-ro)"},
      {h + "thread 0 kvm: write g0\n",
       "4:15: found 'write', expected a kvm op (zap, wb, age, wp-pt, enable-log, harvest, clear-young, change-pte, zap-range, zap-atomic)"},
      {h + "thread 0 kvm: harvest g0\n", "4:23: found 'g0', expected a gfn is not taken by this op: ';' or end of line"},
      {h + "thread 0 kvm: zap\n", "4:18: found end of line, expected a gfn g0..g1 (config gfns=2)"},
      {h + "thread 0 kvm: zap g0;\n", "4:22: found end of line, expected a kvm op (zap, wb, age, wp-pt, enable-log, harvest, clear-young, change-pte, zap-range, zap-atomic)"},
      {h + "thread 0 kvm: zap g0 zap g1\n", "4:22: found 'zap', expected ';' or end of line"},
      {h + "thread 0 kvm zap g0\n", "4:14: found 'zap', expected ':' after the thread kind"},
      {h + "thread 0 kvm: zap g0; zap g0; zap g0; zap g0; zap g0; zap g0; zap g0; zap g0; zap g0\n",
       "4:79: found 'zap', expected at most 8 ops per thread"},
      {t + "spte g0 = P\n", "5:1: found 'spte', expected 'thread', 'schedule:' or 'expect'"},
      {t + "schedule: 1 to end\n", "5:11: found '1', expected a thread number 0..0"},
      {t2 + "schedule: 0 through Z9\n", "6:21: found 'Z9', expected a step label of the spec (H4, F3, Z1, G4, ...)"},
      {t2 + "schedule: 0 through Z1 #0\n", "6:25: found '0', expected an occurrence number 1..65535 right after '#'"},
      {t2 + "schedule: 0 through Z1 # 2\n", "6:26: found '2', expected an occurrence number 1..65535 right after '#'"},
      {t2 + "schedule: 0 for 0\n", "6:17: found '0', expected a step count 1..65535"},
      {t2 + "schedule: 0 for 65536\n", "6:17: found '65536', expected a step count 1..65535"},
      {t2 + "schedule: 0 until Z1\n", "6:13: found 'until', expected 'for N', 'through LABEL' or 'to end'"},
      {t2 + "schedule: 0 to the end\n", "6:16: found 'the', expected 'end'"},
      {t2 + "schedule: 0 to end 1 to end\n", "6:20: found '1', expected ';' or end of line"},
      {t2 + "schedule: 0 to end;\n", "6:20: found end of line, expected a thread number 0..1"},
      {t2 + "schedule 0 to end\n", "6:10: found '0', expected ':' after 'schedule'"},
      {t2 + "schedule: 0 to end\nschedule: 1 to end\n", "7:1: found 'schedule', expected 'expect'"},
      {t2 + "expect violation nothing\n",
       "6:18: found 'nothing', expected an invariant name (lost-dirty-log, lost-page-dirty, stale-tlb-after-pt-protect, "
       "stale-tlb-after-dirty-log, lost-accessed, illegal-fast-path-write, zap-incomplete, spte-bits, resurrected-bits, "
       "flush-placement, lock-discipline, deadlock)"},
      {t2 + "expect violation -\n", "6:18: found '-', expected an invariant name (lost-dirty-log, lost-page-dirty, "
                                     "stale-tlb-after-pt-protect, stale-tlb-after-dirty-log, lost-accessed, "
                                     "illegal-fast-path-write, zap-incomplete, spte-bits, resurrected-bits, "
                                     "flush-placement, lock-discipline, deadlock)"},
      {t2 + "expect fine\n", "6:8: found 'fine', expected 'ok' or 'violation NAME'"},
      {t2 + "expect ok\nthread 2 kvm: harvest\n", "7:1: found 'thread', expected end of file"},
      {t2 + "expect ok extra\n", "6:11: found 'extra', expected end of line"},
      {Head("config ad=off") + "spte g0 = P A HW MW\n", "4:11: spte g0 has A or D but ad=off"},
      {h + ": thread\n", "4:1: found ':', expected 'spte', 'tlb', 'bitmap' or 'thread'"},
  };
  for (const auto& [text, error] : cases) {
    absl::StatusOr<Repro> r = ParseRepro(text);
    ASSERT_FALSE(r.ok()) << "parsed:\n" << text;
    // "..." at the end: the message starts with the rest (lists that grow).
    if (absl::EndsWith(error, "...")) {
      EXPECT_TRUE(absl::StartsWith(r.status().message(), error.substr(0, error.size() - 3)))
          << r.status().message() << "\ninput:\n" << text;
    } else {
      EXPECT_EQ(r.status().message(), error) << "input:\n" << text;
    }
  }
}

TEST(ParseReproTest, TooManyThreadsAndSegments) {
  std::string text = Head("config vcpus=1");
  for (int t = 0; t < kMaxThreads; ++t) absl::StrAppend(&text, "thread ", t, " kvm: harvest\n");
  ASSERT_TRUE(ParseRepro(text).ok());
  absl::StatusOr<Repro> r = ParseRepro(absl::StrCat(text, "thread 6 kvm: harvest\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "10:8: found '6', expected at most 6 threads");
  std::string sched = "schedule: 0 to end";
  for (int i = 1; i < kMaxSegments; ++i) sched += "; 1 to end";
  ASSERT_TRUE(ParseRepro(absl::StrCat(text, sched, "\n")).ok());
  r = ParseRepro(absl::StrCat(text, sched, "; 2 to end\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "expected at most 64 schedule segments")) << r.status();
}

// Every prefix of a valid file either parses or fails with a located error.
TEST(ParseReproTest, TruncationsNeverCrash) {
  const std::string text = kDesignExample;
  for (size_t n = 0; n <= text.size(); ++n) {
    absl::StatusOr<Repro> r = ParseRepro(text.substr(0, n));
    if (!r.ok()) {
      const std::string m(r.status().message());
      EXPECT_TRUE(m.find(": found ") != std::string::npos || m.find(": ") != std::string::npos) << m;
      EXPECT_TRUE(m[0] >= '1' && m[0] <= '9') << m;
    }
  }
}

}  // namespace
}  // namespace sptefuzz
