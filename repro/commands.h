// repro/commands.h: the subcommands of the `sptefuzz` tool. Each takes its
// arguments (after the subcommand name) and returns the exit status:
// 0 no finding, 1 finding reproduced, 2 bad usage or bad input.
#ifndef SPTEFUZZ_REPRO_COMMANDS_H_
#define SPTEFUZZ_REPRO_COMMANDS_H_

#include <string>
#include <vector>

namespace sptefuzz {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitUsage = 2;

int CmdExplore(const std::vector<std::string>& args);
int CmdRules(const std::vector<std::string>& args);
int CmdStress(const std::vector<std::string>& args);
int CmdReplay(const std::vector<std::string>& args);
int CmdConvert(const std::vector<std::string>& args);
int CmdMinimize(const std::vector<std::string>& args);
int CmdBlame(const std::vector<std::string>& args);

// Prints "ERROR: sptefuzz <cmd>: <msg>" to stderr and returns kExitUsage.
int UsageError(const std::string& cmd, const std::string& msg);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_COMMANDS_H_
