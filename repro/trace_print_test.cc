// The text trace (golden), the TLB/dirty-log tracker, and the HTML page.
#include "repro/trace_print.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/scenarios.h"
#include "core/test_util.h"
#include "repro/repro_format.h"
#include "repro/trace_html.h"

namespace sptefuzz {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

// The whole text trace of S1 under v5-patch, against a checked-in golden
// file. After an intended change of the trace format or of the model:
//   SPTEFUZZ_UPDATE_GOLDEN=1 build/<dir>/repro/repro_test --gtest_filter='*Golden*'
TEST(TracePrintTest, GoldenS1UnderV5Patch) {
  const TestCase tc = ScenarioS1();
  const Result r = RunSegments(tc, PresetRules("v5-patch"));
  const std::string got = FormatTrace(tc, r) + FormatVerdict(r) + "\n";
  const std::string path = std::string(SPTEFUZZ_SOURCE_DIR) + "/repro/testdata/s1_v5_patch.trace";
  if (std::getenv("SPTEFUZZ_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << got;
    GTEST_SKIP() << "wrote " << path;
  }
  EXPECT_EQ(got, ReadFile(path)) << "the trace differs from " << path
                                 << "; if intended, update it with SPTEFUZZ_UPDATE_GOLDEN=1";
}

TEST(TracePrintTest, MarksTheViolationAndPointsToItsCauses) {
  const TestCase tc = ScenarioS1();
  const Result r = RunSegments(tc, PresetRules("v5-patch"));
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  const std::string t = FormatTrace(tc, r);
  EXPECT_TRUE(absl::StrContains(t, absl::StrCat(">>   ", r.violations[0].step, "  thread 0 (kvm)"))) << t;
  for (uint32_t c : r.violations[0].cause_steps) {
    EXPECT_TRUE(absl::StrContains(t, absl::StrCat(" *", absl::StrFormat("%5d", c)))) << c << "\n" << t;
  }
  EXPECT_TRUE(absl::StrContains(t, "caused by step 8 (thread 1 (vcpu0) H4.cas CAS ok g0); step 9 (thread 0 (kvm) Z2 ST g0)"))
      << t;
  // Spte bits before and after, decoded.
  EXPECT_TRUE(absl::StrContains(t, "[P W A HW MW] -> [P W A D HW MW]")) << t;
}

TEST(TraceStateTrackerTest, FlushesDropEntriesAndHarvestsTakeTheBitmap) {
  Config c;
  c.vcpus = 2;
  c.gfns = 2;
  c.logging = true;
  c.init_spte[1] = kSptePresent | kSpteA | kSpteD | kSpteW | kSpteHostW | kSpteMmuW;
  c.init_tlb[1][1] = TlbEntry{true, true, true};
  c.init_bitmap = 2;
  TraceStateTracker st(c);
  TraceStep flush;
  flush.event = Event::kFlushVcpu;
  flush.vcpu = 1;
  EXPECT_EQ(st.Apply(flush), std::vector<std::string>{"flush drops vcpu1 {g1 w d}"});
  EXPECT_FALSE(st.tlb(1, 1).valid);
  TraceStep fill;
  fill.event = Event::kTlbMissLoad;
  fill.flags = kTraceTlbFill;
  fill.vcpu = 0;
  fill.gfn = 0;
  fill.aux = 0;
  EXPECT_EQ(st.Apply(fill), std::vector<std::string>{"tlb vcpu0 g0 filled {r}"});
  EXPECT_EQ(st.TlbString(0), "{g0 r}");
  TraceStep bitset;
  bitset.event = Event::kBitSet;
  bitset.gfn = 0;
  bitset.flags = kTraceBitmap;
  EXPECT_EQ(st.Apply(bitset), std::vector<std::string>{"bitmap g0=1"});
  TraceStep harvest;
  harvest.event = Event::kBmXchg;
  harvest.aux = 3;
  EXPECT_EQ(st.Apply(harvest), std::vector<std::string>{"harvest takes {g0 g1}, bitmap -> {}"});
  EXPECT_EQ(st.bitmap(), 0);
}

TEST(TraceHtmlTest, SelfContainedWithTheViolationHighlighted) {
  Repro repro;
  repro.rules = "v5-patch";
  repro.tc = ScenarioS2();
  repro.comments = {"<script>alert(1)</script> & co"};
  const Result r = RunSegments(repro.tc, PresetRules("v5-patch"));
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  const std::string page = FormatTraceHtml(repro, r, "s2 <test>.repro");
  // No network, no scripts; user text is escaped.
  EXPECT_FALSE(absl::StrContains(page, "http:"));
  EXPECT_FALSE(absl::StrContains(page, "https:"));
  EXPECT_FALSE(absl::StrContains(page, "<script"));
  EXPECT_FALSE(absl::StrContains(page, " src="));
  EXPECT_TRUE(absl::StrContains(page, "&lt;script&gt;"));
  EXPECT_TRUE(absl::StrContains(page, "s2 &lt;test&gt;.repro"));
  // One column per thread, one row per step, balanced tables.
  EXPECT_EQ(Count(page, "<th>thread "), repro.tc.threads.size());
  for (const TraceStep& s : r.trace) EXPECT_TRUE(absl::StrContains(page, absl::StrCat("id=\"step-", s.step, "\"")));
  EXPECT_EQ(Count(page, "<table"), Count(page, "</table>"));
  EXPECT_EQ(Count(page, "<tr"), Count(page, "</tr>"));
  EXPECT_EQ(Count(page, "<td"), Count(page, "</td>"));
  // The violation's row and its causes.
  EXPECT_TRUE(absl::StrContains(page, absl::StrCat("id=\"step-", r.violations[0].step, "\" class=\"viol\"")));
  for (uint32_t c : r.violations[0].cause_steps) {
    if (c != r.violations[0].step) EXPECT_TRUE(absl::StrContains(page, absl::StrCat("id=\"step-", c, "\" class=\"cause\"")));
  }
  // The spte grid marks bits set by a step.
  EXPECT_TRUE(absl::StrContains(page, "<td class=\"set\">W</td>"));
}

}  // namespace
}  // namespace sptefuzz
