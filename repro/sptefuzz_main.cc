// sptefuzz: the command-line tool (design.md, "Names that users see").
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "repro/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* help;
};

const Command kCommands[] = {
    {"explore", sptefuzz::CmdExplore,
     "search by itself: explore --rules NAME --strategy random --seed N (--runs N | --time S)"},
    {"stress", sptefuzz::CmdStress,
     "native mode: real OS threads: stress --rules NAME --threads N (--time S | --runs N)"},
    {"rules", sptefuzz::CmdRules, "list the rules presets, their knobs, bugs and expected verdicts"},
    {"replay", sptefuzz::CmdReplay,
     "run repros or raw fuzz inputs twice and print the trace: replay [--expect] [--html OUT] FILE..."},
    {"minimize", sptefuzz::CmdMinimize,
     "shrink a finding to a minimal text repro with the same invariant: minimize FILE -o OUT"},
    {"convert", sptefuzz::CmdConvert, "raw fuzz input <-> text repro, same trace: convert IN -o OUT"},
    {"blame", sptefuzz::CmdBlame,
     "which rule is wrong: the knobs whose fixed value alone removes a finding: blame FILE [--against PRESET]"},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: sptefuzz COMMAND [FLAGS...]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.help);
  std::fprintf(out, "\nexit status: 0 no finding, 1 finding reproduced, 2 bad usage or bad input\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? sptefuzz::kExitUsage : sptefuzz::kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(args);
  }
  std::fprintf(stderr, "ERROR: sptefuzz: unknown command '%s'\n", argv[1]);
  PrintUsage(stderr);
  return sptefuzz::kExitUsage;
}
