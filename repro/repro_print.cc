// Printing half of repro_format.h (canonical text).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/check.h"
#include "repro/repro_format.h"

namespace sptefuzz {

absl::StatusOr<Rules> ResolveRules(const Repro& r) {
  const RulesPreset* p = FindPreset(r.rules);
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown rules preset '", r.rules, "'"));
  Rules rules = p->rules;
  for (const auto& [k, v] : r.knobs) {
    absl::Status s = SetKnob(rules, k, v);
    if (!s.ok()) return s;
  }
  return rules;
}

std::string PrintSchedule(const std::vector<Segment>& segs) {
  std::vector<std::string> parts;
  for (const Segment& s : segs) {
    switch (s.kind) {
      case SegmentKind::kSteps:
        parts.push_back(absl::StrCat(int{s.thread}, " for ", s.count));
        break;
      case SegmentKind::kThrough:
        parts.push_back(s.count == 1 ? absl::StrCat(int{s.thread}, " through ", LabelName(s.label))
                                     : absl::StrCat(int{s.thread}, " through ", LabelName(s.label), " #", s.count));
        break;
      case SegmentKind::kToEnd:
        parts.push_back(absl::StrCat(int{s.thread}, " to end"));
        break;
    }
  }
  return absl::StrJoin(parts, "; ");
}

std::string PrintRepro(const Repro& r) {
  std::string out;
  for (const std::string& c : r.comments) absl::StrAppend(&out, c.empty() ? "#" : absl::StrCat("# ", c), "\n");
  absl::StrAppend(&out, "sptefuzz-repro ", kReproVersion, "\n");
  absl::StrAppend(&out, "rules ", r.rules, "\n");
  for (const auto& [k, v] : r.knobs) absl::StrAppend(&out, "knob ", k, "=", v, "\n");
  const Config& c = r.tc.config;
  // pml=on and large=on only when set: files written before PML (large
  // leaves) were modeled stay canonical.
  absl::StrAppend(&out, "config vcpus=", c.vcpus, " gfns=", c.gfns, " ad=", c.ad ? "on" : "off",
                  " logging=", c.logging ? "on" : "off", " dassist=",
                  c.dassist == DAssist::kStrict ? "strict" : "adversarial", c.pml ? " pml=on" : "",
                  c.large ? " large=on" : "", c.indirect ? " indirect=on" : "", "\n");
  for (int g = 0; g < c.gfns; ++g) {
    if (c.init_spte[g] != 0) absl::StrAppend(&out, "spte g", g, " = ", SpteToString(c.init_spte[g]), "\n");
  }
  for (int v = 0; v < c.vcpus; ++v) {
    for (int g = 0; g < c.gfns; ++g) {
      const TlbEntry& e = c.init_tlb[v][g];
      if (!e.valid) continue;
      std::string bits;
      if (e.w) bits += " w";
      if (e.d) bits += " d";
      absl::StrAppend(&out, "tlb vcpu", v, " g", g, " =", bits.empty() ? " r" : bits, "\n");
    }
  }
  if (c.init_bitmap != 0) {
    std::vector<std::string> gs;
    for (int g = 0; g < c.gfns; ++g) {
      if ((c.init_bitmap >> g) & 1) gs.push_back(absl::StrCat("g", g));
    }
    absl::StrAppend(&out, "bitmap ", absl::StrJoin(gs, " "), "\n");
  }
  for (size_t t = 0; t < r.tc.threads.size(); ++t) {
    const ThreadSpec& th = r.tc.threads[t];
    std::vector<std::string> ops;
    for (const Op& op : th.ops) {
      ops.push_back(OpUsesGfn(op.kind) ? absl::StrCat(OpKindName(op.kind), " g", int{op.gfn}) : OpKindName(op.kind));
    }
    absl::StrAppend(&out, "thread ", t, " ",
                    th.kind == ThreadKind::kVcpu ? absl::StrCat("vcpu", int{th.vcpu}) : std::string("kvm"), ":",
                    ops.empty() ? "" : " ", absl::StrJoin(ops, "; "), "\n");
  }
  if (!r.tc.schedule.empty()) absl::StrAppend(&out, "schedule: ", PrintSchedule(r.tc.schedule), "\n");
  if (r.expect.has_value()) {
    if (r.expect->violation) {
      absl::StrAppend(&out, "expect violation ", InvariantName(r.expect->invariant), "\n");
    } else {
      absl::StrAppend(&out, "expect ok\n");
    }
  }
  return out;
}

}  // namespace sptefuzz
