#include "sim/core/subprocess.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace collsim {

namespace {

volatile sig_atomic_t g_interrupted = 0;  // the signal that asked a WorkerPool to stop, or 0
void on_interrupt(int signo) { g_interrupted = signo; }

}  // namespace

Expected<pid_t> start_child(const std::function<int()>& body, const ChildOptions& options) {
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  std::fflush(nullptr);  // the child must not flush the parent's buffered output again
  sigprocmask(SIG_BLOCK, &stop_signals, &previous);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (options.own_process_group) ::setpgid(0, 0);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    int code = 4;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "collsim: internal error in a child process: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "collsim: internal error in a child process\n");
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  const int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return make_internal_error(fmt::format("fork() failed: {}", std::strerror(fork_errno)));
  if (options.own_process_group) ::setpgid(pid, pid);  // also here: no race with the child's own call
  return pid;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return fmt::format("signal {}: {}", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return fmt::format("exit code {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

bool exited_cleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

WorkerPool::WorkerPool(int size) : size_(size) {
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

WorkerPool::~WorkerPool() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

Status WorkerPool::start(std::size_t item, const std::function<int()>& body) {
  auto pid = start_child(body, ChildOptions{.own_process_group = true});
  if (!pid) return pid.error();
  running_[*pid] = item;
  return Ok{};
}

bool WorkerPool::reap(const std::function<void(std::size_t, int)>& done) {
  bool any = false;
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = running_.find(pid);
    if (it == running_.end()) continue;
    const std::size_t item = it->second;
    running_.erase(it);
    any = true;
    done(item, status);
  }
  return any;
}

void WorkerPool::stop_all() {
  for (const auto& [pid, item] : running_) ::kill(-pid, SIGTERM);  // the worker's whole group
}

int WorkerPool::interrupted() { return g_interrupted; }

}  // namespace collsim
