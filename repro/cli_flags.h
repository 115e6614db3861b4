// repro/cli_flags.h: a small flag parser for the subcommands of `sptefuzz`.
//
// absl::flags keeps flags global; subcommands need their own sets and
// precise errors, so each subcommand declares its flags here.
//
//   CliFlags f("explore");
//   std::string rules = "linux-3.6"; int64_t seed = 1;
//   f.String("rules", &rules, "rules preset");
//   f.Int("seed", &seed, "random seed");
//   absl::Status s = f.Parse(args, &positional);  // "--seed 3" or "--seed=3"
#ifndef SPTEFUZZ_REPRO_CLI_FLAGS_H_
#define SPTEFUZZ_REPRO_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sptefuzz {

class CliFlags {
 public:
  explicit CliFlags(std::string command) : command_(std::move(command)) {}
  void String(const char* name, std::string* v, const char* help);
  void Int(const char* name, int64_t* v, const char* help, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  void Double(const char* name, double* v, const char* help, double min, double max);
  void Bool(const char* name, bool* v, const char* help);
  // Parses args (without the program and subcommand names). Sets *seen for
  // each flag given. Unknown flags, missing or malformed values are errors.
  absl::Status Parse(const std::vector<std::string>& args, std::vector<std::string>* positional);
  bool Seen(const char* name) const;
  std::string Help() const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* ptr;
    std::string help;
    int64_t imin, imax;
    double dmin, dmax;
    bool seen = false;
  };
  std::string command_;
  std::vector<Flag> flags_;
};

// Replaces each argument equal to `short_form` ("-o") by `long_form`
// ("--out"), for commands that take the customary short output flag.
std::vector<std::string> ExpandShortFlag(const std::vector<std::string>& args, const std::string& short_form,
                                         const std::string& long_form);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_CLI_FLAGS_H_
