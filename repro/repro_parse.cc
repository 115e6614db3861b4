// Parsing half of repro_format.h.
//
// The grammar, one statement per line, in this order (blank lines and
// full-line "#" comments may appear anywhere; comments before the version
// line are kept in Repro::comments, later ones are dropped):
//
//   sptefuzz-repro 1
//   rules PRESET
//   knob NAME=VALUE                     (any number, each knob once)
//   config vcpus=N gfns=N ad=on|off logging=on|off dassist=strict|adversarial pml=on|off
//          large=on|off indirect=on|off (keys in any order, each at most once; pml=off,
//                                       large=off and indirect=off are the defaults and are
//                                       not printed; large=on: spte g0 is a large leaf (L)
//                                       mapping every gfn; indirect=on: the slots belong to
//                                       an indirect shadow page, op remap, spec B3)
//   spte gN = FLAGS                     (FLAGS as SpteToString prints them, or 0)
//   tlb vcpuV gN = r | w | d | w d
//   bitmap gN...
//   thread N kvm: OP; OP...             (N counts up from 0; OP is "name gN"
//   thread N vcpuV: OP; OP...            or "enable-log" / "harvest")
//   schedule: SEG; SEG...               (SEG: "T for N", "T through LABEL [#N]", "T to end")
//   expect ok | expect violation INVARIANT
//
// Tokens are words ([^ \t:;=#]+) and the punctuation ':' ';' '=' '#'.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/labels.h"
#include "repro/repro_format.h"

namespace sptefuzz {
namespace {

// Text of a token for "found ..." messages: quoted, with bytes that would
// garble a terminal escaped.
std::string Quote(absl::string_view s) {
  std::string out = "'";
  constexpr size_t kMax = 40;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

struct Token {
  enum Kind { kWord, kPunct, kEnd } kind = kEnd;
  absl::string_view text;
  int col = 0;  // 1-based byte column
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsPunct(char c) { return c == ':' || c == ';' || c == '=' || c == '#'; }

std::vector<Token> Tokenize(absl::string_view line) {
  std::vector<Token> toks;
  size_t i = 0;
  while (i < line.size()) {
    if (IsBlank(line[i])) {
      ++i;
      continue;
    }
    Token t;
    t.col = static_cast<int>(i) + 1;
    if (IsPunct(line[i])) {
      t.kind = Token::kPunct;
      t.text = line.substr(i, 1);
      ++i;
    } else {
      size_t j = i;
      while (j < line.size() && !IsBlank(line[j]) && !IsPunct(line[j])) ++j;
      t.kind = Token::kWord;
      t.text = line.substr(i, j - i);
      i = j;
    }
    toks.push_back(t);
  }
  Token end;
  end.kind = Token::kEnd;
  end.col = static_cast<int>(line.size()) + 1;
  toks.push_back(end);
  return toks;
}

// Sections in the order the format requires.
enum Phase { kVersion, kRules, kKnobs, kConfig, kSptes, kTlbs, kBitmap, kThreads, kSchedule, kExpect, kDone };

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}
  absl::StatusOr<Repro> Parse();

 private:
  // ---- errors ----
  absl::Status Error(int col, absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat(line_no_, ":", col, ": ", msg));
  }
  static std::string Found(const Token& t) {
    if (t.kind == Token::kEnd) return "end of line";
    return Quote(t.text);
  }
  absl::Status Expected(const Token& t, absl::string_view what) const {
    return Error(t.col, absl::StrCat("found ", Found(t), ", expected ", what));
  }

  // ---- token cursor over the current line ----
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  bool AtEnd() const { return Peek().kind == Token::kEnd; }
  absl::Status ExpectPunct(char c, absl::string_view what) {
    const Token& t = Next();
    if (t.kind != Token::kPunct || t.text[0] != c) return Expected(t, what);
    return absl::OkStatus();
  }
  absl::Status ExpectEnd() {
    if (!AtEnd()) return Expected(Peek(), "end of line");
    return absl::OkStatus();
  }
  // A decimal number in [lo, hi] forming the whole of `digits`.
  static bool ParseNum(absl::string_view digits, int64_t lo, int64_t hi, int64_t* out) {
    if (digits.empty() || digits.size() > 9) return false;
    int64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
  }
  // A word "<prefix><number>" with the number in [lo, hi].
  absl::Status PrefixedNum(const Token& t, absl::string_view prefix, int64_t lo, int64_t hi, absl::string_view what,
                           int64_t* out) const {
    if (t.kind != Token::kWord || !absl::StartsWith(t.text, prefix) ||
        !ParseNum(t.text.substr(prefix.size()), lo, hi, out)) {
      return Expected(t, what);
    }
    return absl::OkStatus();
  }
  absl::Status Gfn(const Token& t, int64_t* g) const {
    return PrefixedNum(t, "g", 0, tc().config.gfns - 1, absl::StrCat("a gfn g0..g", tc().config.gfns - 1,
                                                                   " (config gfns=", tc().config.gfns, ")"),
                       g);
  }
  // The consistency rules of ValidateTestCase, checked on what has been
  // parsed so far so that the message points at the line that broke them.
  absl::Status Validate(int col) const {
    TestCase probe = tc();
    if (probe.threads.empty()) probe.threads.push_back(ThreadSpec{ThreadKind::kKernel, 0, {}});
    // The bitmap line comes after the spte lines: until it is read, do not
    // ask for the bits that writable sptes under logging need (the final
    // check does).
    if (phase_ < kBitmap) probe.config.init_bitmap = static_cast<uint8_t>((1u << probe.config.gfns) - 1);
    absl::Status s = ValidateTestCase(probe);
    if (!s.ok()) return Error(col, s.message());
    return absl::OkStatus();
  }

  // ---- statements ----
  absl::Status Statement(absl::string_view line);
  absl::Status Version();
  absl::Status RulesLine();
  absl::Status Knob();
  absl::Status ConfigLine();
  absl::Status SpteLine();
  absl::Status TlbLine();
  absl::Status BitmapLine();
  absl::Status ThreadLine();
  absl::Status ScheduleLine();
  absl::Status ExpectLine();
  // What may come next, for "expected ..." at a keyword.
  std::string ExpectedKeywords() const;

  TestCase& tc() { return repro_.tc; }
  const TestCase& tc() const { return repro_.tc; }

  absl::string_view text_;
  int line_no_ = 0;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  Phase phase_ = kVersion;
  uint32_t spte_seen_ = 0;  // bit g: an spte line for g was read
  Repro repro_;
};

std::string Parser::ExpectedKeywords() const {
  switch (phase_) {
    case kVersion:
      return "'sptefuzz-repro 1' (the version line)";
    case kRules:
      return "'rules'";
    case kKnobs:
      return "'knob' or 'config'";
    case kConfig:
    case kSptes:
      return "'spte', 'tlb', 'bitmap' or 'thread'";
    case kTlbs:
      return "'tlb', 'bitmap' or 'thread'";
    case kBitmap:
      return "'thread'";
    case kThreads:
      return "'thread', 'schedule:' or 'expect'";
    case kSchedule:
      return "'expect'";
    case kExpect:
    case kDone:
      return "end of file";
  }
  return "?";
}

absl::StatusOr<Repro> Parser::Parse() {
  repro_ = Repro{};
  repro_.rules.clear();
  size_t start = 0;
  while (start <= text_.size()) {
    size_t nl = text_.find('\n', start);
    if (nl == absl::string_view::npos) nl = text_.size();
    absl::string_view line = text_.substr(start, nl - start);
    ++line_no_;
    // CRLF files; every trailing CR goes, so a comment never ends in one.
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::Status s = Statement(line); !s.ok()) return s;
    if (nl == text_.size()) break;
    start = nl + 1;
  }
  // Whatever the file still owes is reported at its end.
  const int end_line = line_no_;
  auto missing = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(end_line, ":1: found end of file, expected ", what));
  };
  if (phase_ <= kVersion) return missing("'sptefuzz-repro 1' (the version line)");
  if (phase_ <= kRules) return missing("'rules'");
  if (phase_ <= kKnobs) return missing("'knob' or 'config'");
  if (phase_ < kThreads) return missing("'thread'");
  // Every piece was checked as it was read; this is the backstop.
  if (absl::Status s = ValidateTestCase(tc()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(end_line, ":1: ", s.message()));
  }
  return repro_;
}

absl::Status Parser::Statement(absl::string_view line) {
  size_t first = 0;
  while (first < line.size() && IsBlank(line[first])) ++first;
  if (first == line.size()) return absl::OkStatus();  // blank
  if (line[first] == '#') {
    if (phase_ == kVersion) {
      absl::string_view c = line.substr(first + 1);
      if (absl::StartsWith(c, " ")) c.remove_prefix(1);
      repro_.comments.emplace_back(c);
    }
    return absl::OkStatus();
  }
  toks_ = Tokenize(line);
  pos_ = 0;
  const Token& kw = Peek();
  const absl::string_view w = kw.kind == Token::kWord ? kw.text : absl::string_view();
  if (phase_ == kVersion) {
    if (w != "sptefuzz-repro") return Expected(kw, ExpectedKeywords());
    return Version();
  }
  if (phase_ == kRules) {
    if (w != "rules") return Expected(kw, ExpectedKeywords());
    return RulesLine();
  }
  if (w == "knob" && phase_ == kKnobs) return Knob();
  if (w == "config" && phase_ == kKnobs) return ConfigLine();
  if (w == "spte" && (phase_ == kConfig || phase_ == kSptes)) return SpteLine();
  if (w == "tlb" && phase_ >= kConfig && phase_ <= kTlbs) return TlbLine();
  if (w == "bitmap" && phase_ >= kConfig && phase_ <= kTlbs) return BitmapLine();
  if (w == "thread" && phase_ >= kConfig && phase_ <= kThreads) return ThreadLine();
  if (w == "schedule" && phase_ == kThreads) return ScheduleLine();
  if (w == "expect" && (phase_ == kThreads || phase_ == kSchedule)) return ExpectLine();
  return Expected(kw, ExpectedKeywords());
}

absl::Status Parser::Version() {
  Next();
  const Token& v = Next();
  int64_t n = 0;
  if (v.kind != Token::kWord || !ParseNum(v.text, 0, 999999, &n) || n != kReproVersion) {
    return Expected(v, absl::StrCat("the format version ", kReproVersion));
  }
  phase_ = kRules;
  return ExpectEnd();
}

absl::Status Parser::RulesLine() {
  Next();
  const Token& name = Next();
  if (name.kind != Token::kWord || FindPreset(name.text) == nullptr) {
    std::vector<std::string> names;
    for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
    return Expected(name, absl::StrCat("a rules preset (", absl::StrJoin(names, ", "), ")"));
  }
  repro_.rules = std::string(name.text);
  phase_ = kKnobs;
  return ExpectEnd();
}

absl::Status Parser::Knob() {
  Next();
  const Token& k = Next();
  if (k.kind != Token::kWord) return Expected(k, "a knob name (see `sptefuzz rules --knobs`)");
  for (const auto& [name, value] : repro_.knobs) {
    if (name == k.text) return Expected(k, absl::StrCat("each knob at most once ('", name, "' was set already)"));
  }
  if (absl::Status s = ExpectPunct('=', "'=' after the knob name"); !s.ok()) return s;
  const Token& v = Next();
  if (v.kind != Token::kWord) return Expected(v, "a knob value");
  Rules probe = FindPreset(repro_.rules)->rules;
  if (absl::Status s = SetKnob(probe, k.text, "?"); absl::StartsWith(s.message(), "unknown knob")) {
    return Expected(k, absl::StrCat("a knob name: ", KnobHelp()));
  }
  if (absl::Status s = SetKnob(probe, k.text, v.text); !s.ok()) {
    std::string msg(s.message());
    // SetKnob says "knob 'k' has no value 'v': expected one of a, b".
    const size_t at = msg.find("expected ");
    return Expected(v, at == std::string::npos ? msg : msg.substr(at + 9));
  }
  repro_.knobs.emplace_back(std::string(k.text), std::string(v.text));
  return ExpectEnd();
}

absl::Status Parser::ConfigLine() {
  Next();
  Config& c = tc().config;
  bool seen[8] = {};
  static constexpr const char* kKeys[] = {"vcpus", "gfns", "ad", "logging", "dassist", "pml", "large", "indirect"};
  const Token* pml_on = nullptr;
  while (!AtEnd()) {
    const Token& key = Next();
    int k = -1;
    for (int i = 0; i < 8; ++i) {
      if (key.kind == Token::kWord && key.text == kKeys[i]) k = i;
    }
    if (k < 0) return Expected(key, "a config key (vcpus, gfns, ad, logging, dassist, pml, large, indirect)");
    if (seen[k]) return Expected(key, absl::StrCat("each config key once ('", kKeys[k], "' was given already)"));
    seen[k] = true;
    if (absl::Status s = ExpectPunct('=', absl::StrCat("'=' after '", kKeys[k], "'")); !s.ok()) return s;
    const Token& v = Next();
    const absl::string_view val = v.kind == Token::kWord ? v.text : absl::string_view();
    int64_t n = 0;
    switch (k) {
      case 0:
        if (!ParseNum(val, 1, kMaxVcpus, &n)) return Expected(v, absl::StrCat("a number of vCPUs, 1..", kMaxVcpus));
        c.vcpus = static_cast<int>(n);
        break;
      case 1:
        if (!ParseNum(val, 1, kMaxGfns, &n)) return Expected(v, absl::StrCat("a number of gfns, 1..", kMaxGfns));
        c.gfns = static_cast<int>(n);
        break;
      case 2:
      case 3:
        if (val != "on" && val != "off") return Expected(v, "'on' or 'off'");
        (k == 2 ? c.ad : c.logging) = val == "on";
        break;
      case 4:
        if (val != "strict" && val != "adversarial") return Expected(v, "'strict' or 'adversarial'");
        c.dassist = val == "strict" ? DAssist::kStrict : DAssist::kAdversarial;
        break;
      case 5:
        if (val != "on" && val != "off") return Expected(v, "'on' or 'off'");
        c.pml = val == "on";
        if (c.pml) pml_on = &v;
        break;
      case 6:
        if (val != "on" && val != "off") return Expected(v, "'on' or 'off'");
        c.large = val == "on";
        break;
      case 7:
        if (val != "on" && val != "off") return Expected(v, "'on' or 'off'");
        c.indirect = val == "on";
        break;
    }
  }
  if (pml_on != nullptr && !c.ad) return Expected(*pml_on, "'off': pml=on needs ad=on (PML logs EPT D-bit updates)");
  phase_ = kConfig;
  return absl::OkStatus();
}

absl::Status Parser::SpteLine() {
  Next();
  const Token& gt = Next();
  int64_t g = 0;
  if (absl::Status s = Gfn(gt, &g); !s.ok()) return s;
  if ((spte_seen_ >> g) & 1) return Expected(gt, absl::StrCat("each gfn once (spte g", g, " was given already)"));
  if (absl::Status s = ExpectPunct('=', "'=' after the gfn"); !s.ok()) return s;
  if (AtEnd()) return Expected(Peek(), "spte flags such as 'P A HW MW', or 0");
  int count = 0;
  const SpteFlagName* names = SpteFlagNames(&count);
  Spte spte = 0;
  const int flags_col = Peek().col;
  bool zero = false, flags = false;
  while (!AtEnd()) {
    const Token& f = Next();
    if (f.kind == Token::kWord && f.text == "0") {
      if (zero || flags) return Expected(f, "'0' alone (an empty spte)");
      zero = true;
      continue;
    }
    Spte bit = 0;
    for (int i = 0; i < count && f.kind == Token::kWord; ++i) {
      if (f.text == names[i].name) bit = names[i].bit;
    }
    if (bit == 0) {
      std::vector<std::string> all;
      for (int i = 0; i < count; ++i) all.push_back(names[i].name);
      return Expected(f, absl::StrCat("an spte flag (", absl::StrJoin(all, " "), ") or end of line"));
    }
    if (zero) return Expected(f, "nothing after '0'");
    if (spte & bit) return Expected(f, "each flag once");
    spte |= bit;
    flags = true;
  }
  tc().config.init_spte[g] = spte;
  spte_seen_ |= 1u << g;
  phase_ = kSptes;
  return Validate(flags_col);
}

absl::Status Parser::TlbLine() {
  Next();
  const Token& vt = Next();
  int64_t v = 0;
  const int vcpus = tc().config.vcpus;
  if (absl::Status s = PrefixedNum(vt, "vcpu", 0, vcpus - 1,
                                   absl::StrCat("a vCPU vcpu0..vcpu", vcpus - 1, " (config vcpus=", vcpus, ")"), &v);
      !s.ok()) {
    return s;
  }
  const Token& gt = Next();
  int64_t g = 0;
  if (absl::Status s = Gfn(gt, &g); !s.ok()) return s;
  TlbEntry& e = tc().config.init_tlb[v][g];
  if (e.valid) return Expected(vt, absl::StrCat("each tlb entry once (vcpu", v, " g", g, " was given already)"));
  if (absl::Status s = ExpectPunct('=', "'=' after the gfn"); !s.ok()) return s;
  const int col = Peek().col;
  TlbEntry n{true, false, false};
  bool r = false;
  if (AtEnd()) return Expected(Peek(), "tlb entry bits: 'r' (read-only), or 'w' and/or 'd'");
  while (!AtEnd()) {
    const Token& b = Next();
    const absl::string_view t = b.kind == Token::kWord ? b.text : absl::string_view();
    if (t == "r" && !r && !n.w && !n.d) {
      r = true;
    } else if (t == "w" && !r && !n.w && !n.d) {
      n.w = true;
    } else if (t == "d" && !r && !n.d) {
      n.d = true;
    } else {
      return Expected(b, r ? "end of line after 'r'" : n.d ? "end of line after 'd'" : "'w', 'd' or end of line");
    }
  }
  e = n;
  phase_ = kTlbs;
  return Validate(col);
}

absl::Status Parser::BitmapLine() {
  Next();
  if (AtEnd()) return Expected(Peek(), "the gfns set in the dirty bitmap (g0 g1 ...)");
  uint8_t bits = 0;
  int last = -1;
  while (!AtEnd()) {
    const Token& gt = Next();
    int64_t g = 0;
    if (absl::Status s = Gfn(gt, &g); !s.ok()) return s;
    if (g <= last) return Expected(gt, absl::StrCat("gfns in increasing order, each once (after g", last, ")"));
    last = static_cast<int>(g);
    bits |= static_cast<uint8_t>(1u << g);
  }
  tc().config.init_bitmap = bits;
  phase_ = kBitmap;
  return absl::OkStatus();
}

absl::Status Parser::ThreadLine() {
  Next();
  const Token& nt = Next();
  int64_t n = 0;
  const int64_t want = static_cast<int64_t>(tc().threads.size());
  if (want >= kMaxThreads) return Expected(nt, absl::StrCat("at most ", kMaxThreads, " threads"));
  if (nt.kind != Token::kWord || !ParseNum(nt.text, 0, 999999, &n) || n != want) {
    return Expected(nt, absl::StrCat("thread number ", want, " (threads are numbered in order from 0)"));
  }
  const Token& kt = Next();
  ThreadSpec th;
  const int vcpus = tc().config.vcpus;
  if (kt.kind == Token::kWord && kt.text == "kvm") {
    th.kind = ThreadKind::kKernel;
  } else if (kt.kind == Token::kWord && absl::StartsWith(kt.text, "vcpu")) {
    int64_t v = 0;
    if (absl::Status s = PrefixedNum(kt, "vcpu", 0, vcpus - 1,
                                     absl::StrCat("'kvm' or a vCPU vcpu0..vcpu", vcpus - 1, " (config vcpus=", vcpus, ")"),
                                     &v);
        !s.ok()) {
      return s;
    }
    for (size_t t = 0; t < tc().threads.size(); ++t) {
      const ThreadSpec& o = tc().threads[t];
      if (o.kind == ThreadKind::kVcpu && o.vcpu == v) {
        return Expected(kt, absl::StrCat("one thread per vCPU (thread ", t, " is vcpu", v, " already)"));
      }
    }
    th.kind = ThreadKind::kVcpu;
    th.vcpu = static_cast<uint8_t>(v);
  } else {
    return Expected(kt, absl::StrCat("'kvm' or a vCPU vcpu0..vcpu", vcpus - 1));
  }
  if (absl::Status s = ExpectPunct(':', "':' after the thread kind"); !s.ok()) return s;
  const bool vcpu = th.kind == ThreadKind::kVcpu;
  const char* kOps = vcpu ? "a vCPU op (read, write, fault, sync-drop, sync-ro)" : "a kvm op (zap, wb, age, wp-pt, enable-log, harvest, clear-young, change-pte, zap-range, zap-atomic)";
  while (!AtEnd()) {
    const Token& ot = Next();
    std::optional<OpKind> k;
    if (ot.kind == Token::kWord) k = ParseOpKind(ot.text);
    if (!k.has_value() || IsVcpuOp(*k) != vcpu) return Expected(ot, kOps);
    if (th.ops.size() >= static_cast<size_t>(kMaxOpsPerThread)) {
      return Expected(ot, absl::StrCat("at most ", kMaxOpsPerThread, " ops per thread"));
    }
    Op op{*k, 0};
    if (OpUsesGfn(*k)) {
      int64_t g = 0;
      if (absl::Status s = Gfn(Next(), &g); !s.ok()) return s;
      op.gfn = static_cast<uint8_t>(g);
    }
    th.ops.push_back(op);
    if (AtEnd()) break;
    if (absl::Status s = ExpectPunct(';', OpUsesGfn(*k) ? "';' or end of line" : "a gfn is not taken by this op: ';' or end of line");
        !s.ok()) {
      return s;
    }
    if (AtEnd()) return Expected(Peek(), kOps);
  }
  tc().threads.push_back(std::move(th));
  phase_ = kThreads;
  return absl::OkStatus();
}

absl::Status Parser::ScheduleLine() {
  Next();
  if (absl::Status s = ExpectPunct(':', "':' after 'schedule'"); !s.ok()) return s;
  const int nthreads = static_cast<int>(tc().threads.size());
  const std::string thread_range = absl::StrCat("a thread number 0..", nthreads - 1);
  while (!AtEnd()) {
    if (tc().schedule.size() >= static_cast<size_t>(kMaxSegments)) {
      return Expected(Peek(), absl::StrCat("at most ", kMaxSegments, " schedule segments"));
    }
    const Token& tt = Next();
    int64_t t = 0;
    if (tt.kind != Token::kWord || !ParseNum(tt.text, 0, nthreads - 1, &t)) return Expected(tt, thread_range);
    Segment seg;
    seg.thread = static_cast<uint8_t>(t);
    const Token& how = Next();
    const absl::string_view h = how.kind == Token::kWord ? how.text : absl::string_view();
    int64_t n = 0;
    if (h == "for") {
      const Token& ct = Next();
      if (ct.kind != Token::kWord || !ParseNum(ct.text, 1, 0xffff, &n)) return Expected(ct, "a step count 1..65535");
      seg.kind = SegmentKind::kSteps;
      seg.count = static_cast<uint16_t>(n);
    } else if (h == "through") {
      const Token& lt = Next();
      std::optional<Label> l;
      if (lt.kind == Token::kWord) l = ParseLabel(lt.text);
      if (!l.has_value()) return Expected(lt, "a step label of the spec (H4, F3, Z1, G4, ...)");
      seg.kind = SegmentKind::kThrough;
      seg.label = *l;
      if (Peek().kind == Token::kPunct && Peek().text == "#") {
        const int hash_col = Next().col;
        const Token& ct = Next();
        if (ct.kind != Token::kWord || !ParseNum(ct.text, 1, 0xffff, &n) || ct.col != hash_col + 1) {
          return Expected(ct, "an occurrence number 1..65535 right after '#'");
        }
        seg.count = static_cast<uint16_t>(n);
      }
    } else if (h == "to") {
      const Token& et = Next();
      if (et.kind != Token::kWord || et.text != "end") return Expected(et, "'end'");
      seg.kind = SegmentKind::kToEnd;
    } else {
      return Expected(how, "'for N', 'through LABEL' or 'to end'");
    }
    tc().schedule.push_back(seg);
    if (AtEnd()) break;
    if (absl::Status s = ExpectPunct(';', "';' or end of line"); !s.ok()) return s;
    if (AtEnd()) return Expected(Peek(), thread_range);
  }
  phase_ = kSchedule;
  return absl::OkStatus();
}

absl::Status Parser::ExpectLine() {
  Next();
  const Token& w = Next();
  if (w.kind == Token::kWord && w.text == "ok") {
    repro_.expect = Expect{false, Invariant::kCount};
  } else if (w.kind == Token::kWord && w.text == "violation") {
    const Token& it = Next();
    std::optional<Invariant> inv;
    // Names, or the spec's ids (I2); "-" is the spec id of none.
    if (it.kind == Token::kWord && it.text != "-") inv = ParseInvariant(it.text);
    if (!inv.has_value()) {
      std::vector<std::string> names;
      for (int i = 0; i < kInvariantCount; ++i) names.push_back(InvariantName(static_cast<Invariant>(i)));
      return Expected(it, absl::StrCat("an invariant name (", absl::StrJoin(names, ", "), ")"));
    }
    repro_.expect = Expect{true, *inv};
  } else {
    return Expected(w, "'ok' or 'violation NAME'");
  }
  phase_ = kDone;
  return ExpectEnd();
}

}  // namespace

absl::StatusOr<Repro> ParseRepro(absl::string_view text) { return Parser(text).Parse(); }

}  // namespace sptefuzz
