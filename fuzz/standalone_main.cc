// fuzz/standalone_main.cc: runs LLVMFuzzerTestOneInput over files and
// directories without an engine (like libFuzzer's StandaloneFuzzTargetMain),
// so that the normal build and ctest can run the fuzz target over a corpus.
//
//   sptefuzz_fuzzer_driver corpus/seeds crash-1234
//
// Exit status: 0 every input ran clean; 2 a path cannot be read. A finding
// aborts inside the target, as under an engine.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool RunFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "ERROR: sptefuzz_fuzzer_driver: cannot read %s\n", p.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "INFO: running %s (%zu bytes)\n", p.c_str(), bytes.size());
  if (LLVMFuzzerTestOneInput(bytes.data(), bytes.size()) == -1) {
    std::fprintf(stderr, "INFO: %s was rejected unrun (adversarial D-assist; SPTEFUZZ_ADVERSARIAL=on runs it)\n",
                 p.c_str());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n  runs the sptefuzz fuzz target over each input (SPTEFUZZ_RULES picks the rules)\n",
                 argv[0]);
    return 2;
  }
  LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.is_regular_file()) in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());  // the same order on every run
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (std::filesystem::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "ERROR: sptefuzz_fuzzer_driver: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  for (const auto& f : files) {
    if (!RunFile(f)) return 2;
  }
  std::fprintf(stderr, "INFO: sptefuzz_fuzzer_driver: %zu inputs ran without a finding\n", files.size());
  return 0;
}
