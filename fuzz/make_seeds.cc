// fuzz/make_seeds.cc: writes the seed corpus from core/scenarios.h, one
// file per spec scenario the model supports, named after it
// (DIR/seeds/S1.bin, ...), and the dictionary DIR/sptefuzz.dict (libFuzzer
// and AFL++ share its format): the 2-byte schedule records and the
// thread+op byte pairs of fuzz/codec.h.
// Existing files are never overwritten: with --check it instead compares
// them with what it would write (ctest runs that, so the checked-in files
// follow the codec and the scenarios).
//
//   sptefuzz_make_seeds corpus          # writes what is missing
//   sptefuzz_make_seeds --check corpus  # exit 1 if anything differs
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/labels.h"

#include "core/scenarios.h"
#include "core/check.h"
#include "fuzz/codec.h"

namespace {

struct Seed {
  const char* name;
  sptefuzz::TestCase (*make)();
};

const Seed kSeeds[] = {
    {"S1", sptefuzz::ScenarioS1},
    {"S2", sptefuzz::ScenarioS2},
    {"S3", sptefuzz::ScenarioS3},
    {"S4", sptefuzz::ScenarioS4},
    {"S5", sptefuzz::ScenarioS5},
    {"S9", sptefuzz::ScenarioS9},
    {"S10", sptefuzz::ScenarioS10},
    {"S11", sptefuzz::ScenarioS11},
    {"S12", sptefuzz::ScenarioS12},
};

std::string Escape(const std::vector<uint8_t>& b) {
  std::string s;
  for (uint8_t x : b) s += absl::StrFormat("\\x%02x", x);
  return s;
}

std::string Dictionary() {
  using namespace sptefuzz;
  std::string d =
      "# sptefuzz fuzz dictionary (libFuzzer -dict=, AFL++ -x), written by sptefuzz_make_seeds\n"
      "# from fuzz/codec.h; do not edit by hand.\n"
      "# Schedule records (codec v1): thread T runs through the first LABEL, or to its end.\n";
  // The preemption points of the spec's scenarios, by name: labels the
  // model gains later do not change the dictionary.
  static constexpr const char* kLabels[] = {"H4", "F2", "F3", "F4", "S1", "S3", "S6", "S8", "S9", "S11",
                                            "U1", "U2", "Z1", "Z2", "W1", "FL", "N1", "N2", "N3", "WB",
                                            "A2", "A3", "P1", "P4", "L1", "L2", "G1", "G2", "G4"};
  for (int t = 0; t < 4; ++t) {
    for (const char* name : kLabels) {
      const std::optional<Label> l = ParseLabel(name);
      SPTEFUZZ_CHECK(l.has_value());
      absl::StrAppend(&d, "t", t, "_through_", name, "=\"",
                      Escape({static_cast<uint8_t>(t), static_cast<uint8_t>(*l)}), "\"\n");
    }
    absl::StrAppend(&d, "t", t, "_to_end=\"", Escape({static_cast<uint8_t>(t | 2 << 3), 0}), "\"\n");
    absl::StrAppend(&d, "t", t, "_1_step=\"", Escape({static_cast<uint8_t>(t | 1 << 3), 0}), "\"\n");
  }
  d += "# Threads with one operation on g0 (descriptor byte, op byte).\n";
  // Dictionary keywords: letters, digits and '_' (AFL++'s parser).
  auto keyword = [](OpKind k) {
    std::string n = OpKindName(k);
    for (char& c : n) {
      if (c == '-') c = '_';
    }
    return n;
  };
  const std::vector<OpKind>& vops = CodecOps(ThreadKind::kVcpu);
  // The kernel ops of the codec's preferred order (ops added later to the
  // model come after them and are left out, so the file stays stable).
  const std::vector<OpKind> kops(CodecOps(ThreadKind::kKernel).begin(), CodecOps(ThreadKind::kKernel).begin() + 6);
  for (int v = 0; v < kMaxVcpus; ++v) {
    for (size_t k = 0; k < vops.size(); ++k) {
      absl::StrAppend(&d, "vcpu", v, "_", keyword(vops[k]), "=\"",
                      Escape({static_cast<uint8_t>(v << 1), static_cast<uint8_t>(k << 2)}), "\"\n");
    }
  }
  for (size_t k = 0; k < kops.size(); ++k) {
    absl::StrAppend(&d, "kvm_", keyword(kops[k]), "=\"", Escape({1, static_cast<uint8_t>(k << 2)}), "\"\n");
  }
  return d;
}

// Compares `p` with `bytes`, or writes it when missing. Returns false on a
// difference (or a missing file under --check).
bool Emit(const std::filesystem::path& p, const std::string& bytes, bool check, int* err) {
  std::error_code ec;
  if (std::filesystem::exists(p, ec)) {
    std::ifstream f(p, std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (have != bytes) {
      std::fprintf(stderr, "%s: %s differs from what sptefuzz_make_seeds writes%s\n", check ? "ERROR" : "WARNING",
                   p.c_str(), check ? "" : " (left as it is; delete it to regenerate)");
      return false;
    }
    std::printf("INFO: %s is up to date\n", p.c_str());
    return true;
  }
  if (check) {
    std::fprintf(stderr, "ERROR: %s is missing\n", p.c_str());
    return false;
  }
  std::ofstream f(p, std::ios::binary);
  f << bytes;
  f.close();
  if (!f) {
    std::fprintf(stderr, "ERROR: sptefuzz_make_seeds: cannot write %s\n", p.c_str());
    *err = 2;
    return false;
  }
  std::printf("INFO: wrote %s (%zu bytes)\n", p.c_str(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (argv[i][0] == '-' || !dir.empty()) {
      std::fprintf(stderr, "ERROR: sptefuzz_make_seeds: unexpected argument '%s'\nusage: %s [--check] CORPUS_DIR\n", argv[i],
                   argv[0]);
      return 2;
    } else {
      dir = argv[i];
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: %s [--check] CORPUS_DIR\n", argv[0]);
    return 2;
  }
  std::error_code ec;
  const std::filesystem::path seeds = std::filesystem::path(dir) / "seeds";
  if (!check) std::filesystem::create_directories(seeds, ec);
  if (!std::filesystem::is_directory(seeds, ec)) {
    std::fprintf(stderr, "ERROR: sptefuzz_make_seeds: %s is not a directory\n", seeds.c_str());
    return 2;
  }
  int differ = 0, err = 0;
  for (const Seed& s : kSeeds) {
    const sptefuzz::TestCase tc = s.make();
    SPTEFUZZ_CHECK(sptefuzz::IsEncodable(tc));
    const std::vector<uint8_t> b = sptefuzz::EncodeTestCase(tc);
    differ += !Emit(seeds / (std::string(s.name) + ".bin"), std::string(b.begin(), b.end()), check, &err);
  }
  differ += !Emit(std::filesystem::path(dir) / "sptefuzz.dict", Dictionary(), check, &err);
  if (err != 0) return err;
  return check && differ > 0 ? 1 : 0;
}
