// `sptefuzz stress`: native mode. Runs random programs on real OS threads
// (core/native.h) round after round, as a kernel developer's stress test
// would, and checks the invariants at the end of every round. It is the
// baseline that the deterministic search is measured against.
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/native.h"
#include "core/program_gen.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/repro_format.h"
#include "repro/trace_print.h"

namespace sptefuzz {

int CmdStress(const std::vector<std::string>& args) {
  CliFlags flags("stress");
  std::string rules_name = DefaultPreset().name;
  int64_t threads = std::max(2u, std::thread::hardware_concurrency());
  int64_t seed = 1, runs = 0;
  double time_s = 0;
  bool quiet = false;
  flags.String("rules", &rules_name, "rules preset (see `sptefuzz rules`)");
  flags.Int("threads", &threads, "OS threads per round (vCPUs + kernel threads)", 2, kMaxThreads);
  flags.Int("seed", &seed, "seed of the programs", 0, INT64_MAX);
  flags.Int("runs", &runs, "number of rounds", 1, INT64_MAX);
  flags.Double("time", &time_s, "seconds to run", 0.001, 1e9);
  flags.Bool("quiet", &quiet, "print only the report lines of a finding");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(args, &pos); !s.ok()) return UsageError("stress", std::string(s.message()));
  if (!pos.empty()) return UsageError("stress", absl::StrCat("unexpected argument '", pos[0], "'"));
  if (flags.Seen("runs") == flags.Seen("time")) return UsageError("stress", "give exactly one of --runs N or --time S");
  const RulesPreset* preset = FindPreset(rules_name);
  if (preset == nullptr) {
    std::vector<std::string> names;
    for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
    return UsageError("stress", absl::StrCat("unknown rules preset '", rules_name, "': expected one of ",
                                             absl::StrJoin(names, ", ")));
  }
  GenOptions gen;
  gen.max_vcpus = std::min<int>(kMaxVcpus, static_cast<int>(threads) - 1);
  gen.max_kernel_threads = std::max<int>(1, static_cast<int>(threads) - 1);
  SplitMix64 rng(static_cast<uint64_t>(seed));
  NativeRunner runner;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  uint64_t rounds = 0;
  for (;;) {
    if (flags.Seen("runs") && rounds >= static_cast<uint64_t>(runs)) break;
    if (flags.Seen("time") && (rounds & 63) == 0 && elapsed() >= time_s) break;
    TestCase tc = RandomTestCase(rng, gen);
    // At most `threads` threads, keeping at least one vCPU and one kernel thread.
    while (static_cast<int64_t>(tc.threads.size()) > threads) {
      int drop = static_cast<int>(tc.threads.size()) - 1;
      int nv = 0, nk = 0;
      for (const ThreadSpec& t : tc.threads) (t.kind == ThreadKind::kVcpu ? nv : nk)++;
      for (int i = static_cast<int>(tc.threads.size()) - 1; i >= 0; --i) {
        const bool vcpu = tc.threads[i].kind == ThreadKind::kVcpu;
        if ((vcpu && nv > 1) || (!vcpu && nk > 1)) {
          drop = i;
          break;
        }
      }
      tc.threads.erase(tc.threads.begin() + drop);
    }
    const Result& r = runner.Run(tc, preset->rules);
    ++rounds;
    if (r.outcome != Outcome::kViolation) continue;
    PrintFindingReport(stdout, rules_name, r, "");
    std::printf("INFO: found after %llu rounds, %.3f s on %lld OS threads (native mode)\n",
                static_cast<unsigned long long>(rounds), elapsed(), static_cast<long long>(threads));
    if (!quiet) {
      Repro repro;
      repro.comments.push_back(absl::StrCat("found by: sptefuzz stress --rules ", rules_name, " --seed ", seed, ", round ",
                                            rounds, " (native mode: the interleaving is not recorded)"));
      repro.rules = rules_name;
      repro.tc = tc;
      std::printf("\n--- program (no schedule: run `sptefuzz explore` or `replay` on it to find one) ---\n%s",
                  PrintRepro(repro).c_str());
    }
    return kExitFinding;
  }
  const double secs = elapsed();
  std::printf("INFO: no violation: %llu rounds in %.2f s (%.0f rounds/s) on %lld OS threads (native mode)\n",
              static_cast<unsigned long long>(rounds), secs, secs > 0 ? rounds / secs : 0.0,
              static_cast<long long>(threads));
  return kExitOk;
}

}  // namespace sptefuzz
