// Child processes, for the two places collsim runs work in one: the SimGrid
// backend (one engine per run: SimGrid keeps global state, and a crash
// must not take the caller with it) and `collsim sweep` (a pool of worker
// processes, interruptible and resumable). POSIX fork/waitpid.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "sim/core/error.h"

namespace collsim {

struct ChildOptions {
  // The child leads a process group of its own, so that signalling the
  // group (kill(-pid, ...)) also stops the processes it starts.
  bool own_process_group = false;
};

// Runs `body` in a forked child, which exits with body's return value and
// never returns into the caller (an exception ends it with code 4, its
// message on standard error). Buffered output is flushed before the fork
// and in the child before it exits. SIGINT and SIGTERM are blocked around
// the fork and reset to their defaults in the child, so a child never runs
// the parent's handlers. Errors: fork() failed (internal).
Expected<pid_t> start_child(const std::function<int()>& body, const ChildOptions& options = {});

// Waits for `pid` to end (through EINTR) and returns its wait status.
int wait_child(pid_t pid);

// "exit code 3", or "signal 9: Killed", for a wait status.
std::string describe_exit(int status);
// Whether a wait status is a normal exit with code 0.
bool exited_cleanly(int status);

// A pool of at most `size` children at once, each tagged with the caller's
// index of its work item; SIGINT/SIGTERM set interrupted() while the pool
// lives (and are restored after), so the caller can stop starting work and
// stop the running children (stop_all).
class WorkerPool {
 public:
  explicit WorkerPool(int size);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  bool has_room() const { return static_cast<int>(running_.size()) < size_; }
  std::size_t running() const { return running_.size(); }
  // Starts `body` for `item` in a child of its own process group.
  Status start(std::size_t item, const std::function<int()>& body);
  // Calls done(item, wait status) for every child that has ended; returns
  // whether any had.
  bool reap(const std::function<void(std::size_t, int)>& done);
  // SIGTERM to every running child's process group.
  void stop_all();
  // The signal that asked to stop, or 0.
  static int interrupted();

 private:
  int size_;
  std::map<pid_t, std::size_t> running_;
  struct sigaction old_int_ {
  }, old_term_{};  // restored when the pool ends
};

}  // namespace collsim
