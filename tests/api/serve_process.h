// A real `tandem serve` child process for a test: started with --port 0 on
// 127.0.0.1, ready once it printed "listening on http://...", stopped with
// SIGTERM by the destructor (which also reaps it), or when the test process
// dies. Throws std::runtime_error
// when it does not come up within 60 s.
#pragma once

#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace tandem::testing {

class ServeProcess {
 public:
  ServeProcess(const std::string& binary, const std::vector<std::string>& args) {
    std::vector<std::string> all = {binary, "serve"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"--port", "0"});
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {  // only async-signal-safe calls until exec
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // a test that dies takes its server with it
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    pid_ = pid;
    out_ = fds[0];
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (url_.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      char buf[256];
      ssize_t n = 0;
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0 || (n = read(out_, buf, sizeof buf)) <= 0) {
        stop();
        throw std::runtime_error("tandem serve did not start: " + text);
      }
      text.append(buf, static_cast<size_t>(n));
      const size_t at = text.find("listening on ");
      const size_t end = text.find('\n', at);
      if (at != std::string::npos && end != std::string::npos) url_ = text.substr(at + 13, end - at - 13);
    }
  }
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  const std::string& url() const { return url_; }

  // SIGTERM, then the exit status (-1 when killed by a signal).
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    close(out_);
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int status_ = -1;
  std::string url_;
};

}  // namespace tandem::testing
