#include "test_util.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tandem::testing {

std::string shared_dir() {
  if (const char* env = std::getenv("TANDEM_SHARED_DIR"); env && *env) return env;
  return TANDEM_SHARED_DIR;
}

std::string shared_path(const std::string& relative) { return shared_dir() + "/" + relative; }

SharedProblem shared_problem(const std::string& relative) {
  const std::string path = shared_path(relative);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return {};
  if (!std::filesystem::is_directory(shared_dir(), ec)) {
    return {"needs " + path + " (set TANDEM_SHARED_DIR; see README)", true};
  }
  return {"the shared folder " + shared_dir() + " lacks " + relative, false};
}

std::string source_path(const std::string& relative) { return std::string(TANDEM_SOURCE_DIR) + "/" + relative; }

std::string tandem_binary() { return TANDEM_BINARY; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

nlohmann::json read_json_lossy(const std::string& path) {
  std::string text = read_file(path);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return nlohmann::json::parse(text);
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  char err_path[] = "/tmp/tandem_test_stderr_XXXXXX";
  int fd = mkstemp(err_path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::string full = command + " 2>" + err_path;
  CommandResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_path);
  std::remove(err_path);
  return r;
}

}  // namespace tandem::testing
