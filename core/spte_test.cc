#include "core/spte.h"

#include <gtest/gtest.h>

namespace sptefuzz {
namespace {

TEST(SpteTest, Predicates) {
  const Spte ro = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
  EXPECT_TRUE(IsShadowPresentPte(ro));
  EXPECT_FALSE(IsWritablePte(ro));
  EXPECT_TRUE(IsMmuWritableSpte(ro));
  EXPECT_TRUE(IsHostWritable(ro));
  EXPECT_TRUE(IsHardwarePresent(ro));
  EXPECT_FALSE(IsShadowPresentPte(0));
  EXPECT_FALSE(IsShadowPresentPte(kSptePresent | kSpteFrozen));
  EXPECT_FALSE(IsHardwarePresent(kSptePresent | kSpteAccTrk));
  EXPECT_TRUE(IsShadowPresentPte(kSptePresent | kSpteAccTrk));
}

TEST(SpteTest, AccessedAndDirtyFollowAdMode) {
  const Spte w = kSptePresent | kSpteW | kSpteMmuW | kSpteHostW;
  EXPECT_FALSE(IsDirtySpte(w, /*ad_enabled=*/true));
  EXPECT_TRUE(IsDirtySpte(w, /*ad_enabled=*/false));  // dirty <=> W without A/D
  EXPECT_TRUE(IsDirtySpte(w | kSpteD, true));
  EXPECT_FALSE(IsAccessedSpte(w, true));
  EXPECT_TRUE(IsAccessedSpte(w, false));              // accessed <=> not access-tracked
  EXPECT_FALSE(IsAccessedSpte(kSptePresent | kSpteAccTrk, false));
}

TEST(SpteTest, ToStringIsInFixedOrder) {
  EXPECT_EQ(SpteToString(0), "0");
  EXPECT_EQ(SpteToString(kSpteMmuW | kSpteHostW | kSpteA | kSptePresent), "P A HW MW");
  EXPECT_EQ(SpteToString(kSptePresent | kSpteW | kSpteA | kSpteD | kSpteHostW | kSpteMmuW), "P W A D HW MW");
  EXPECT_EQ(SpteToString(SpteWithPfn(kSptePresent, 3)), "P pfn=3");
}

TEST(SpteTest, ParseRoundTripsEveryFlagCombination) {
  for (Spte s = 0; s <= kSpteAllFlags; s += 37) {
    absl::StatusOr<Spte> p = ParseSpte(SpteToString(s));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, s);
  }
  absl::StatusOr<Spte> p = ParseSpte(SpteToString(SpteWithPfn(kSptePresent | kSpteD, 200)));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(SptePfn(*p), 200);
}

TEST(SpteTest, ParseRejectsUnknownFlagsWithAMessage) {
  absl::StatusOr<Spte> p = ParseSpte("P Q");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("unknown spte flag 'Q'"), std::string::npos);
  EXPECT_FALSE(ParseSpte("").ok());
  EXPECT_FALSE(ParseSpte("pfn=999").ok());
  EXPECT_FALSE(ParseSpte("pfn=x").ok());
}

}  // namespace
}  // namespace sptefuzz
