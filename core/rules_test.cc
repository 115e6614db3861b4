#include "core/rules.h"

#include <gtest/gtest.h>

#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kP = kSptePresent;
constexpr Spte kLockless = kSpteHostW | kSpteMmuW;

Rules WithVolatile(VolatileRule v) {
  Rules r;
  r.volatile_rule = v;
  return r;
}

TEST(RulesTest, Pre36VolatileIgnoresTheLocklessPath) {
  const Rules r = WithVolatile(VolatileRule::kPre36);
  // The B1 hazard: read-only, accessed, MMU-writable is not volatile.
  EXPECT_FALSE(SpteHasVolatileBits(r, kP | kSpteA | kLockless, true));
  EXPECT_TRUE(SpteHasVolatileBits(r, kP | kLockless, true));                       // A can still be set
  EXPECT_TRUE(SpteHasVolatileBits(r, kP | kSpteA | kSpteW | kLockless, true));     // D can still be set
  EXPECT_FALSE(SpteHasVolatileBits(r, kP | kSpteA | kSpteW | kSpteD | kLockless, true));
  EXPECT_FALSE(SpteHasVolatileBits(r, kP | kLockless, false));                     // no A/D: never
  EXPECT_FALSE(SpteHasVolatileBits(r, 0, true));
}

TEST(RulesTest, V36VolatileChecksLocklessModifiableFirst) {
  const Rules r = WithVolatile(VolatileRule::kV36);
  EXPECT_TRUE(SpteHasVolatileBits(r, kP | kSpteA | kLockless, true));
  EXPECT_TRUE(SpteHasVolatileBits(r, kP | kLockless, false));   // even without A/D
  EXPECT_FALSE(SpteHasVolatileBits(r, kP | kSpteA | kSpteHostW, true));
  EXPECT_TRUE(SpteHasVolatileBits(r, kP | kSpteHostW, true));   // A can be set
}

TEST(RulesTest, AviReadingsHaveOppositePolarity) {
  const Spte a_only = kP | kSpteA | kLockless;
  const Spte a_and_d = kP | kSpteA | kSpteD | kLockless;
  EXPECT_TRUE(SpteHasVolatileBits(WithVolatile(VolatileRule::kAvi), a_only, true));
  EXPECT_FALSE(SpteHasVolatileBits(WithVolatile(VolatileRule::kAvi), a_and_d, true));
  EXPECT_FALSE(SpteHasVolatileBits(WithVolatile(VolatileRule::kAviLiteral), a_only, true));
  EXPECT_TRUE(SpteHasVolatileBits(WithVolatile(VolatileRule::kAviLiteral), a_and_d, true));
}

TEST(RulesTest, FastPathGate) {
  Rules r;
  r.fast_pf_gate = FastPfGate::kHostAndMmuW;
  EXPECT_TRUE(FastPfMayMakeWritable(r, kP | kLockless));
  EXPECT_FALSE(FastPfMayMakeWritable(r, kP | kSpteMmuW));
  r.fast_pf_gate = FastPfGate::kMmuW;
  EXPECT_TRUE(FastPfMayMakeWritable(r, kP | kSpteMmuW));
  r.fast_pf_gate = FastPfGate::kDisabled;
  EXPECT_FALSE(FastPfMayMakeWritable(r, kP | kLockless));
}

TEST(RulesTest, PresetsExistWithVerdicts) {
  for (const char* name : {"pre-3.6", "v5-patch", "avi-proposal", "avi-proposal-literal", "linux-3.6"}) {
    EXPECT_NE(FindPreset(name), nullptr) << name;
  }
  EXPECT_TRUE(FindPreset("linux-3.6")->expected.empty());
  EXPECT_TRUE(FindPreset("pre-3.6")->expected.empty());
  EXPECT_FALSE(FindPreset("v5-patch")->expected.empty());
  EXPECT_EQ(FindPreset("nope"), nullptr);
  EXPECT_STREQ(DefaultPreset().name, "linux-6.15");
}

TEST(RulesTest, KnobsRoundTripAndReportErrors) {
  Rules r = PresetRules("linux-3.6");
  ASSERT_TRUE(SetKnob(r, "volatile", "pre-3.6").ok());
  EXPECT_EQ(r.volatile_rule, VolatileRule::kPre36);
  auto diff = KnobDiff(r, PresetRules("linux-3.6"));
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0].first, "volatile");
  EXPECT_EQ(diff[0].second, "pre-3.6");
  absl::Status bad = SetKnob(r, "volatile", "v9");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("expected one of"), std::string::npos);
  EXPECT_FALSE(SetKnob(r, "nosuch", "x").ok());
  // Every knob value printed can be set back.
  Rules copy;
  for (const auto& [k, v] : KnobValues(r)) ASSERT_TRUE(SetKnob(copy, k, v).ok()) << k << "=" << v;
  EXPECT_EQ(copy, r);
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// `sptefuzz blame` skips these: turning a check on is not a kernel fix.
TEST(RulesTest, CheckKnobsAreOraclesAndPlantsOnly) {
  EXPECT_TRUE(IsCheckKnob("strict-a"));
  EXPECT_TRUE(IsCheckKnob("check-mmu-w-implies-host-w"));
  EXPECT_TRUE(IsCheckKnob("plant"));
  EXPECT_FALSE(IsCheckKnob("volatile"));
  EXPECT_FALSE(IsCheckKnob("tdp-setter"));
  EXPECT_FALSE(IsCheckKnob("no-such-knob"));
}

}  // namespace
}  // namespace sptefuzz
