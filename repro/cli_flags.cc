#include "repro/cli_flags.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sptefuzz {

void CliFlags::String(const char* name, std::string* v, const char* help) {
  flags_.push_back({name, Kind::kString, v, help, 0, 0, 0, 0});
}
void CliFlags::Int(const char* name, int64_t* v, const char* help, int64_t min, int64_t max) {
  flags_.push_back({name, Kind::kInt, v, help, min, max, 0, 0});
}
void CliFlags::Double(const char* name, double* v, const char* help, double min, double max) {
  flags_.push_back({name, Kind::kDouble, v, help, 0, 0, min, max});
}
void CliFlags::Bool(const char* name, bool* v, const char* help) {
  flags_.push_back({name, Kind::kBool, v, help, 0, 0, 0, 0});
}

bool CliFlags::Seen(const char* name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

std::string CliFlags::Help() const {
  std::string out = absl::StrCat("flags of 'sptefuzz ", command_, "':\n");
  for (const Flag& f : flags_) {
    absl::StrAppend(&out, "  --", f.name, f.kind == Kind::kBool ? "" : " VALUE", "    ", f.help, "\n");
  }
  return out;
}

std::vector<std::string> ExpandShortFlag(const std::vector<std::string>& args, const std::string& short_form,
                                         const std::string& long_form) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (a == "--") break;
    out.push_back(a == short_form ? long_form : a);
  }
  for (size_t i = out.size(); i < args.size(); ++i) out.push_back(args[i]);
  return out;
}

absl::Status CliFlags::Parse(const std::vector<std::string>& args, std::vector<std::string>* positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) positional->push_back(args[i]);
      break;
    }
    if (!absl::StartsWith(a, "--")) {
      positional->push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* flag = nullptr;
    for (Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "' for 'sptefuzz ", command_, "'\n", Help()));
    }
    if (flag->kind == Kind::kBool) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": expected no value, true or false, got '", value, "'"));
      }
      *static_cast<bool*>(flag->ptr) = !has_value || value == "true";
      flag->seen = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      value = args[++i];
    }
    switch (flag->kind) {
      case Kind::kString:
        *static_cast<std::string*>(flag->ptr) = value;
        break;
      case Kind::kInt: {
        int64_t v = 0;
        if (!absl::SimpleAtoi(value, &v) || v < flag->imin || v > flag->imax) {
          return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": expected an integer in [", flag->imin, ", ",
                                                         flag->imax, "], got '", value, "'"));
        }
        *static_cast<int64_t*>(flag->ptr) = v;
        break;
      }
      case Kind::kDouble: {
        double v = 0;
        if (!absl::SimpleAtod(value, &v) || !(v >= flag->dmin && v <= flag->dmax)) {
          return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": expected a number in [", flag->dmin, ", ",
                                                         flag->dmax, "], got '", value, "'"));
        }
        *static_cast<double*>(flag->ptr) = v;
        break;
      }
      case Kind::kBool:
        break;
    }
    flag->seen = true;
  }
  return absl::OkStatus();
}

}  // namespace sptefuzz
